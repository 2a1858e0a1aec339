import COneDNN

/// 2-D max and average pooling through oneDNN. Input [N, C, H, W], output [N, C, OH, OW], same layout.
public struct PoolGeometry: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case max, avg, avgIncludePadding }
    public var n, c, h, w, kh, kw, strideH, strideW, padH, padW: Int
    public var kind: Kind
    public init(n: Int, c: Int, h: Int, w: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                kind: Kind) {
        (self.n, self.c, self.h, self.w) = (n, c, h, w)
        (kh, kw, strideH, strideW, padH, padW) = (kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1)
        self.kind = kind
    }
    public var outH: Int { (h + 2 * padH - kh) / strideH + 1 }
    public var outW: Int { (w + 2 * padW - kw) / strideW + 1 }
    public var srcDims: [Int] { [n, c, h, w] }
    public var dstDims: [Int] { [n, c, outH, outW] }
    public var description: String { "pool.\(kind) \(srcDims)->\(dstDims) k\(kh)x\(kw) s\(strideH),\(strideW) p\(padH),\(padW)" }
    var alg: dnnl_alg_kind_t {
        switch kind {
        case .max: return dnnl_pooling_max
        case .avg: return dnnl_pooling_avg_exclude_padding
        case .avgIncludePadding: return dnnl_pooling_avg_include_padding
        }
    }
    var padR: [Int64] {
        [Int64((outH - 1) * strideH + kh - h - padH), Int64((outW - 1) * strideW + kw - w - padW)]
    }
}

public enum PoolKernels {
    static func describeForward(_ g: PoolGeometry, _ layout: Layout, training: Bool) -> dnnl_pooling_desc_t {
        var s = MD.of(g.srcDims, layout), d = MD.of(g.dstDims, layout)
        var desc = dnnl_pooling_desc_t()
        dnnlCheck(dnnl_pooling_forward_desc_init(&desc, training ? dnnl_forward_training : dnnl_forward_inference,
            g.alg, &s, &d, [Int64(g.strideH), Int64(g.strideW)], [Int64(g.kh), Int64(g.kw)],
            [Int64(g.padH), Int64(g.padW)], g.padR), "pool fwd \(g)")
        return desc
    }

    static func forwardPrimitive(_ g: PoolGeometry, _ layout: Layout, training: Bool) -> Primitive {
        PrimitiveCache.shared.get("pool_fwd\(training)|\(g)|\(layout)") {
            Primitive(desc: describeForward(g, layout, training: training), what: "\(g)")
        }
    }

    /// Bytes of workspace max pooling keeps for its backward pass (indices of the maxima), as a Float count.
    public static func workspaceCount(_ g: PoolGeometry, _ layout: Layout) -> Int {
        guard g.kind == .max else { return 0 }
        let md = forwardPrimitive(g, layout, training: true).md(dnnl_query_workspace_md)
        return (MD.byteSize(md) + 3) / 4
    }

    public static func forward(_ g: PoolGeometry, layout: Layout, src: UnsafeMutablePointer<Float>,
                               dst: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>?) {
        let training = workspace != nil || g.kind != .max
        let p = forwardPrimitive(g, layout, training: workspace != nil)
        var args = [(Arg.src, MD.of(g.srcDims, layout), UnsafeMutableRawPointer(src)),
                    (Arg.dst, MD.of(g.dstDims, layout), UnsafeMutableRawPointer(dst))]
        if let workspace, g.kind == .max {
            args.append((Arg.workspace, p.md(dnnl_query_workspace_md), UnsafeMutableRawPointer(workspace)))
        }
        _ = training
        p.execute(args)
    }

    public static func backward(_ g: PoolGeometry, layout: Layout, diffDst: UnsafeMutablePointer<Float>,
                                diffSrc: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>?) {
        let hint = forwardPrimitive(g, layout, training: true)
        let p = PrimitiveCache.shared.get("pool_bwd|\(g)|\(layout)") {
            var s = MD.of(g.srcDims, layout), d = MD.of(g.dstDims, layout)
            var desc = dnnl_pooling_desc_t()
            dnnlCheck(dnnl_pooling_backward_desc_init(&desc, g.alg, &s, &d, [Int64(g.strideH), Int64(g.strideW)],
                [Int64(g.kh), Int64(g.kw)], [Int64(g.padH), Int64(g.padW)], g.padR), "pool bwd \(g)")
            return Primitive(desc: desc, hint: hint, what: "\(g)")
        }
        var args = [(Arg.diffDst, MD.of(g.dstDims, layout), UnsafeMutableRawPointer(diffDst)),
                    (Arg.diffSrc, MD.of(g.srcDims, layout), UnsafeMutableRawPointer(diffSrc))]
        if let workspace, g.kind == .max {
            args.append((Arg.workspace, hint.md(dnnl_query_workspace_md), UnsafeMutableRawPointer(workspace)))
        }
        p.execute(args)
    }
}
