import COneDNN

/// Nearest and bilinear resizing of [N, C, H, W] to [N, C, OH, OW] through oneDNN. Bilinear uses half-pixel
/// centres, which is PyTorch's `align_corners=False`.
public enum ResampleKernels {
    public enum Mode: String, Sendable { case nearest, bilinear }

    static func alg(_ m: Mode) -> dnnl_alg_kind_t { m == .nearest ? dnnl_resampling_nearest : dnnl_resampling_linear }

    static func forwardPrimitive(_ src: [Int], _ dst: [Int], _ layout: Layout, _ mode: Mode) -> Primitive {
        PrimitiveCache.shared.get("resample_fwd|\(src)|\(dst)|\(layout)|\(mode)") {
            var s = MD.of(src, layout), d = MD.of(dst, layout)
            var desc = dnnl_resampling_desc_t()
            dnnlCheck(dnnl_resampling_forward_desc_init(&desc, dnnl_forward_training, alg(mode), nil, &s, &d),
                      "resample fwd \(src)->\(dst)")
            return Primitive(desc: desc, what: "resample")
        }
    }

    public static func forward(src: [Int], dst: [Int], layout: Layout, mode: Mode,
                               x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let p = forwardPrimitive(src, dst, layout, mode)
        p.execute([(Arg.src, MD.of(src, layout), .init(x)), (Arg.dst, MD.of(dst, layout), .init(y))])
    }

    public static func backward(src: [Int], dst: [Int], layout: Layout, mode: Mode,
                                diffDst: UnsafeMutablePointer<Float>, diffSrc: UnsafeMutablePointer<Float>) {
        let hint = forwardPrimitive(src, dst, layout, mode)
        let p = PrimitiveCache.shared.get("resample_bwd|\(src)|\(dst)|\(layout)|\(mode)") {
            var s = MD.of(src, layout), d = MD.of(dst, layout)
            var desc = dnnl_resampling_desc_t()
            dnnlCheck(dnnl_resampling_backward_desc_init(&desc, alg(mode), nil, &s, &d), "resample bwd")
            return Primitive(desc: desc, hint: hint, what: "resample bwd")
        }
        p.execute([(Arg.diffDst, MD.of(dst, layout), .init(diffDst)), (Arg.diffSrc, MD.of(src, layout), .init(diffSrc))])
    }
}
