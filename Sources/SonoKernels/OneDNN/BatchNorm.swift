import COneDNN

/// Batch normalisation over N, H, W for each channel of [N, C, H, W] through oneDNN, with separate scale
/// (gamma) and shift (beta) vectors of length C. Statistics: mean and biased variance of the batch.
/// With `fuseReLU` the primitive also applies max(0, ·) and, in training, keeps a bit mask (the workspace)
/// for its backward pass: one pass over the activation instead of three.
public enum BatchNormKernels {
    static func flags(training: Bool, fuseReLU: Bool) -> UInt32 {
        var f = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        if !training { f |= dnnl_use_global_stats.rawValue }
        if fuseReLU { f |= dnnl_fuse_norm_relu.rawValue }
        return f
    }

    static func describeForward(_ dims: [Int], _ layout: Layout, _ eps: Float, training: Bool,
                                fuseReLU: Bool) -> dnnl_batch_normalization_desc_t {
        var md = MD.of(dims, layout)
        var d = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
            &md, eps, flags(training: training, fuseReLU: fuseReLU)), "bn fwd \(dims)")
        return d
    }

    static func forwardPrimitive(_ dims: [Int], _ layout: Layout, _ eps: Float, training: Bool, fuseReLU: Bool) -> Primitive {
        PrimitiveCache.shared.get("bn_fwd\(training)\(fuseReLU)|\(dims)|\(layout)|\(eps)") {
            Primitive(desc: describeForward(dims, layout, eps, training: training, fuseReLU: fuseReLU), what: "bn \(dims)")
        }
    }

    /// Floats of workspace a fused training forward needs (its ReLU mask).
    public static func workspaceCount(dims: [Int], layout: Layout, eps: Float) -> Int {
        let p = forwardPrimitive(dims, layout, eps, training: true, fuseReLU: true)
        return (MD.byteSize(p.md(dnnl_query_workspace_md)) + 3) / 4
    }

    /// Training: computes the batch `mean` and `variance` (written) and normalises with them.
    /// Inference (`training == false`): normalises with the given `mean` and `variance`.
    /// `workspace` is required when training with `fuseReLU`.
    public static func forward(dims: [Int], layout: Layout, eps: Float, training: Bool, fuseReLU: Bool = false,
                               src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>,
                               scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                               workspace: UnsafeMutablePointer<Float>? = nil) {
        let p = forwardPrimitive(dims, layout, eps, training: training, fuseReLU: fuseReLU)
        let md = MD.of(dims, layout), c = MD.plain([dims[1]])
        var args = [(Arg.src, md, UnsafeMutableRawPointer(src)), (Arg.dst, md, .init(dst)), (Arg.scale, c, .init(scale)),
                    (Arg.shift, c, .init(shift)), (Arg.mean, c, .init(mean)), (Arg.variance, c, .init(variance))]
        if training && fuseReLU {
            precondition(workspace != nil, "fused batch norm + ReLU in training needs a workspace")
            args.append((Arg.workspace, p.md(dnnl_query_workspace_md), .init(workspace!)))
        }
        p.execute(args)
    }

    /// Gradients of the input, scale and shift from the saved batch statistics. oneDNN 2.6 wants the shift
    /// among the arguments although the gradient does not depend on it.
    public static func backward(dims: [Int], layout: Layout, eps: Float, fuseReLU: Bool = false,
                                src: UnsafeMutablePointer<Float>, diffDst: UnsafeMutablePointer<Float>,
                                scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>,
                                mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                diffSrc: UnsafeMutablePointer<Float>, diffScale: UnsafeMutablePointer<Float>,
                                diffShift: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>? = nil) {
        let hint = forwardPrimitive(dims, layout, eps, training: true, fuseReLU: fuseReLU)
        let p = PrimitiveCache.shared.get("bn_bwd\(fuseReLU)|\(dims)|\(layout)|\(eps)") {
            var md = MD.of(dims, layout), dmd = MD.of(dims, layout)
            var d = dnnl_batch_normalization_desc_t()
            dnnlCheck(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &dmd, &md, eps,
                flags(training: true, fuseReLU: fuseReLU)), "bn bwd \(dims)")
            return Primitive(desc: d, hint: hint, what: "bn bwd \(dims)")
        }
        let md = MD.of(dims, layout), c = MD.plain([dims[1]])
        var args = [(Arg.src, md, UnsafeMutableRawPointer(src)), (Arg.diffDst, md, .init(diffDst)), (Arg.scale, c, .init(scale)),
                    (Arg.shift, c, .init(shift)), (Arg.mean, c, .init(mean)), (Arg.variance, c, .init(variance)),
                    (Arg.diffSrc, md, .init(diffSrc)), (Arg.diffScale, c, .init(diffScale)), (Arg.diffShift, c, .init(diffShift))]
        if fuseReLU {
            precondition(workspace != nil, "fused batch norm + ReLU backward needs the forward's workspace")
            args.append((Arg.workspace, hint.md(dnnl_query_workspace_md), .init(workspace!)))
        }
        p.execute(args)
    }
}
