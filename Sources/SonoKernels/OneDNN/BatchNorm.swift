import COneDNN

/// Batch normalisation over N, H, W for each channel of [N, C, H, W] through oneDNN, with separate scale
/// (gamma) and shift (beta) vectors of length C. Statistics: mean and biased variance of the batch.
public enum BatchNormKernels {
    static let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue

    static func forwardPrimitive(_ dims: [Int], _ layout: Layout, _ eps: Float, training: Bool) -> Primitive {
        PrimitiveCache.shared.get("bn_fwd\(training)|\(dims)|\(layout)|\(eps)") {
            var md = MD.of(dims, layout)
            var d = dnnl_batch_normalization_desc_t()
            let f = training ? flags : flags | dnnl_use_global_stats.rawValue
            dnnlCheck(dnnl_batch_normalization_forward_desc_init(&d,
                training ? dnnl_forward_training : dnnl_forward_inference, &md, eps, f), "bn fwd \(dims)")
            return Primitive(desc: d, what: "bn \(dims)")
        }
    }

    /// Training: computes the batch `mean` and `variance` (written) and normalises with them.
    /// Inference (`training == false`): normalises with the given `mean` and `variance`.
    public static func forward(dims: [Int], layout: Layout, eps: Float, training: Bool,
                               src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>,
                               scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let p = forwardPrimitive(dims, layout, eps, training: training)
        let md = MD.of(dims, layout), c = MD.plain([dims[1]])
        p.execute([(Arg.src, md, .init(src)), (Arg.dst, md, .init(dst)), (Arg.scale, c, .init(scale)),
                   (Arg.shift, c, .init(shift)), (Arg.mean, c, .init(mean)), (Arg.variance, c, .init(variance))])
    }

    /// Gradients of the input, scale and shift from the saved batch statistics. oneDNN 2.6 wants the shift
    /// among the arguments although the gradient does not depend on it.
    public static func backward(dims: [Int], layout: Layout, eps: Float,
                                src: UnsafeMutablePointer<Float>, diffDst: UnsafeMutablePointer<Float>,
                                scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>,
                                mean: UnsafeMutablePointer<Float>,
                                variance: UnsafeMutablePointer<Float>, diffSrc: UnsafeMutablePointer<Float>,
                                diffScale: UnsafeMutablePointer<Float>, diffShift: UnsafeMutablePointer<Float>) {
        let hint = forwardPrimitive(dims, layout, eps, training: true)
        let p = PrimitiveCache.shared.get("bn_bwd|\(dims)|\(layout)|\(eps)") {
            var md = MD.of(dims, layout), dmd = MD.of(dims, layout)
            var d = dnnl_batch_normalization_desc_t()
            dnnlCheck(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &dmd, &md, eps, flags),
                      "bn bwd \(dims)")
            return Primitive(desc: d, hint: hint, what: "bn bwd \(dims)")
        }
        let md = MD.of(dims, layout), c = MD.plain([dims[1]])
        p.execute([(Arg.src, md, .init(src)), (Arg.diffDst, md, .init(diffDst)), (Arg.scale, c, .init(scale)), (Arg.shift, c, .init(shift)),
                   (Arg.mean, c, .init(mean)), (Arg.variance, c, .init(variance)),
                   (Arg.diffSrc, md, .init(diffSrc)), (Arg.diffScale, c, .init(diffScale)),
                   (Arg.diffShift, c, .init(diffShift))])
    }
}
