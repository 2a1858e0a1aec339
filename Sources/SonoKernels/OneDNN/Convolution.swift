import Foundation
import COneDNN

/// Shape of one 2-D convolution or transposed convolution, in PyTorch's terms.
/// Convolution: input [N, C, H, W], weights [O, C/groups, KH, KW], output [N, O, OH, OW].
/// Transposed:  input [N, C, H, W], weights [C, O/groups, KH, KW], output [N, O, OH, OW].
public struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
    public var n, c, h, w, o, kh, kw: Int
    public var strideH = 1, strideW = 1, padH = 0, padW = 0, dilationH = 1, dilationW = 1, groups = 1
    public var outputPadH = 0, outputPadW = 0
    public var transposed = false

    public init(n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int) {
        (self.n, self.c, self.h, self.w, self.o, self.kh, self.kw) = (n, c, h, w, o, kh, kw)
    }

    public var outH: Int {
        transposed ? (h - 1) * strideH - 2 * padH + dilationH * (kh - 1) + 1 + outputPadH
                   : (h + 2 * padH - dilationH * (kh - 1) - 1) / strideH + 1
    }
    public var outW: Int {
        transposed ? (w - 1) * strideW - 2 * padW + dilationW * (kw - 1) + 1 + outputPadW
                   : (w + 2 * padW - dilationW * (kw - 1) - 1) / strideW + 1
    }
    public var srcDims: [Int] { [n, c, h, w] }
    public var dstDims: [Int] { [n, o, outH, outW] }
    /// A transposed convolution that doubles the resolution with non-overlapping 2x2 cells (U-Net upsampling).
    var isStride2Upsampling: Bool {
        transposed && kh == 2 && kw == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0 &&
            outputPadH == 0 && outputPadW == 0 && dilationH == 1 && dilationW == 1 && groups == 1
    }
    /// PyTorch's weight shape.
    public var weightDims: [Int] { transposed ? [c, o / groups, kh, kw] : [o, c / groups, kh, kw] }
    public var description: String {
        "\(transposed ? "deconv" : "conv") \(srcDims)->\(dstDims) k\(kh)x\(kw) s\(strideH),\(strideW) p\(padH),\(padW) d\(dilationH),\(dilationW) g\(groups)"
    }

    /// oneDNN's logical weight dims ([G,] O, I, KH, KW), always indexed by the primitive's own output channels.
    var dnnlWeightDims: [Int] {
        let (oc, ic) = (o, c)
        return groups == 1 ? [oc, ic, kh, kw] : [groups, oc / groups, ic / groups, kh, kw]
    }
    /// How PyTorch's weight buffer maps onto `dnnlWeightDims`: OIHW for convolution; for transposed
    /// convolution PyTorch stores [I, O/G, KH, KW], which is oneDNN's `iohw` (or `giohw`).
    var userWeightTag: dnnl_format_tag_t {
        switch (transposed, groups == 1) {
        case (false, true): return dnnl_oihw
        case (false, false): return dnnl_goihw
        case (true, true): return dnnl_iohw
        case (true, false): return dnnl_giohw
        }
    }
    var strides: [Int64] { [Int64(strideH), Int64(strideW)] }
    var dilates: [Int64] { [Int64(dilationH - 1), Int64(dilationW - 1)] }
    var padL: [Int64] { [Int64(padH), Int64(padW)] }
    /// Right padding that makes oneDNN's output size equal PyTorch's (covers output_padding and strides that
    /// do not divide evenly).
    var padR: [Int64] {
        func r(_ i: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, _ out: Int) -> Int64 {
            // oneDNN: out = (in - ((k-1)*d + 1) + pl + pr) / s + 1 for conv; transposed uses the same relation
            // with in/out swapped.
            let (big, small) = transposed ? (out, i) : (i, out)
            return Int64((small - 1) * s + (k - 1) * d + 1 - big - p)
        }
        return [r(h, kh, strideH, padH, dilationH, outH), r(w, kw, strideW, padW, dilationW, outW)]
    }
}

/// A tensor argument of a kernel: a pointer and the physical layout of its logical NCHW shape.
public struct Operand {
    public let pointer: UnsafeMutablePointer<Float>
    public let layout: Layout
    public init(_ pointer: UnsafeMutablePointer<Float>, _ layout: Layout) {
        (self.pointer, self.layout) = (pointer, layout)
    }
    var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pointer) }
}

/// Convolution and transposed convolution through oneDNN: forward, gradient of the input, gradient of the
/// weights and bias. Winograd F(4x4, 3x3) where oneDNN has it (see `withAlgorithm`), results within the
/// golden tests' 1e-4 tolerance. Weights come and go in PyTorch's layout; they are reordered to the primitive's preferred
/// blocked layout on each call (weights are small next to activations).
public enum ConvKernels {
    /// Floating-point operations of the convolutions run so far (2 per multiply-add of a direct convolution,
    /// whatever algorithm ran), for `sonoseg bench`'s GFLOP/s. Counts forward, backward-data and
    /// backward-weights calls.
    nonisolated(unsafe) public private(set) static var executedFLOPs = 0

    private static func count(_ g: ConvGeometry) {
        let (inner, pixels) = g.transposed ? (g.o / g.groups, g.n * g.h * g.w * g.c) : (g.c / g.groups, g.n * g.outH * g.outW * g.o)
        executedFLOPs &+= 2 * pixels * inner * g.kh * g.kw
    }
    private static func key(_ kind: String, _ g: ConvGeometry, _ a: Layout, _ b: Layout, _ bias: Bool) -> String {
        "\(kind)|\(g)|\(a)|\(b)|\(bias)"
    }

    /// The forward convolution (not transposed) from `src` to `dst` layouts, weights in the layout the primitive
    /// picks.
    static func describeForward(_ g: ConvGeometry, src: Layout, dst: Layout, bias: Bool, training: Bool,
                                algorithm: dnnl_alg_kind_t) -> dnnl_convolution_desc_t {
        var srcMD = MD.of(g.srcDims, src), dstMD = MD.of(g.dstDims, dst)
        var wMD = MD.any(g.dnnlWeightDims), bMD = MD.plain([g.o])
        var d = dnnl_convolution_desc_t()
        withUnsafeMutablePointer(to: &bMD) { bp in
            dnnlCheck(dnnl_dilated_convolution_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
                algorithm, &srcMD, &wMD, (bias ? bp : nil), &dstMD, g.strides, g.dilates, g.padL, g.padR), "conv fwd \(g)")
        }
        return d
    }

    static func describeBackwardData(_ g: ConvGeometry, diffSrc: Layout, diffDst: Layout,
                                     algorithm: dnnl_alg_kind_t) -> dnnl_convolution_desc_t {
        var sMD = MD.of(g.srcDims, diffSrc), dMD = MD.of(g.dstDims, diffDst), wMD = MD.any(g.dnnlWeightDims)
        var d = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_dilated_convolution_backward_data_desc_init(&d, algorithm,
            &sMD, &wMD, &dMD, g.strides, g.dilates, g.padL, g.padR), "conv bwd data \(g)")
        return d
    }

    static func describeBackwardWeights(_ g: ConvGeometry, src: Layout, diffDst: Layout, bias: Bool) -> dnnl_convolution_desc_t {
        var sMD = MD.of(g.srcDims, src), dMD = MD.of(g.dstDims, diffDst)
        var wMD = MD.any(g.dnnlWeightDims), bMD = MD.plain([g.o])
        var d = dnnl_convolution_desc_t()
        withUnsafeMutablePointer(to: &bMD) { bp in
            dnnlCheck(dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_auto,
                &sMD, &wMD, (bias ? bp : nil), &dMD, g.strides, g.dilates, g.padL, g.padR), "conv bwd weights \(g)")
        }
        return d
    }

    static func forwardPrimitive(_ g: ConvGeometry, src: Layout, dst: Layout, bias: Bool,
                                 training: Bool = true, relu: Bool = false) -> Primitive {
        PrimitiveCache.shared.get(key("fwd\(training)\(relu ? "+relu" : "")", g, src, dst, bias)) {
            let attr = relu ? reluPostOp() : nil
            defer { if let attr { dnnl_primitive_attr_destroy(attr) } }
            if g.transposed {
                var srcMD = MD.of(g.srcDims, src), dstMD = MD.of(g.dstDims, dst)
                var wMD = MD.any(g.dnnlWeightDims), bMD = MD.plain([g.o])
                var d = dnnl_deconvolution_desc_t()
                withUnsafeMutablePointer(to: &bMD) { bp in
                    dnnlCheck(dnnl_dilated_deconvolution_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
                        dnnl_deconvolution_direct, &srcMD, &wMD, (bias ? bp : nil), &dstMD, g.strides, g.dilates, g.padL, g.padR),
                              "deconv fwd \(g)")
                }
                return Primitive(desc: d, attr: attr, what: "\(g)")
            }
            return withAlgorithm(g, src, dst) { alg in
                (describeForward(g, src: src, dst: dst, bias: bias, training: training, algorithm: alg), attr, nil)
            }
        }
    }

    /// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions between blocked activations, forward and
    /// backward-data, where oneDNN has an optimised Winograd kernel for the ISA and layout (its AVX-512 kernels
    /// take 16-channel blocks; there is none for AVX2); `auto` elsewhere. `auto` alone keeps the direct kernel
    /// for these shapes, which measured 1.3-2.5x slower per layer at inference on AVX-512
    /// (`ONEDNN_VERBOSE=1 sonoseg bench unet-infer`) and made a U-Net training step 717 ms instead of 494.
    static func withAlgorithm(_ g: ConvGeometry, _ src: Layout, _ dst: Layout,
                              _ describe: (dnnl_alg_kind_t) -> (dnnl_convolution_desc_t, dnnl_primitive_attr_t?, Primitive?)) -> Primitive {
        let eligible = !g.transposed && g.kh == 3 && g.kw == 3 && g.strideH == 1 && g.strideW == 1 &&
            g.dilationH == 1 && g.dilationW == 1 && g.groups == 1 && src.isBlocked && dst == src
        if eligible {
            let (d, attr, hint) = describe(dnnl_convolution_winograd)
            if let p = Primitive.ifImplemented(desc: d, hint: hint, attr: attr, what: "\(g)", optimisedOnly: true) { return p }
        }
        let (d, attr, hint) = describe(dnnl_convolution_auto)
        return Primitive(desc: d, hint: hint, attr: attr, what: "\(g)")
    }

    /// Attributes that apply max(0, ·) to the convolution's output while it is still in registers.
    private static func reluPostOp() -> dnnl_primitive_attr_t? {
        var attr: dnnl_primitive_attr_t?, ops: dnnl_post_ops_t?
        dnnlCheck(dnnl_primitive_attr_create(&attr), "attr_create")
        dnnlCheck(dnnl_post_ops_create(&ops), "post_ops_create")
        dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "post_ops_append_eltwise")
        dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
        dnnl_post_ops_destroy(ops)
        return attr
    }

    /// Reorders PyTorch-layout weights into the layout `primitive` wants (or uses them as they are).
    static func preparedWeights(_ weights: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                                want: dnnl_memory_desc_t) -> (UnsafeMutableRawPointer, Buffer?) {
        let user = MD.tag(g.dnnlWeightDims, g.userWeightTag)
        if MD.equal(user, want) { return (UnsafeMutableRawPointer(weights), nil) }
        let scratch = Buffer(count: MD.size(want))
        Primitive.reorder(UnsafeMutableRawPointer(weights), from: user, to: want,
                          into: UnsafeMutableRawPointer(scratch.pointer))
        return (UnsafeMutableRawPointer(scratch.pointer), scratch)
    }

    /// dst = conv(src, weights) + bias, followed by max(0, ·) with `relu`. Pass `constantWeights` (the buffer
    /// holding `weights`) when the weights will not change, as in a loaded model at inference: their reordered
    /// copy is then kept and reused.
    public static func forward(_ g: ConvGeometry, src: Operand, weights: UnsafeMutablePointer<Float>,
                               bias: UnsafeMutablePointer<Float>?, dst: Operand, training: Bool = true,
                               relu: Bool = false, constantWeights: Buffer? = nil) {
        if !training && !relu && g.isStride2Upsampling && src.layout.isBlocked && dst.layout == src.layout {
            upsampleThroughPointwise(g, src: src, weights: weights, bias: bias, dst: dst, constantWeights: constantWeights)
            return
        }
        let p = forwardPrimitive(g, src: src.layout, dst: dst.layout, bias: bias != nil, training: training, relu: relu)
        if onlyReference(p, src.layout, dst.layout, plain: {
            forwardPrimitive(g, src: .plain, dst: .plain, bias: bias != nil, training: training, relu: relu)
        }) {
            let (x, kept) = plainCopy(src, g.srcDims), y = Buffer(count: g.dstDims.reduce(1, *))
            forward(g, src: x, weights: weights, bias: bias, dst: Operand(y.pointer, .plain), training: training,
                    relu: relu, constantWeights: constantWeights)
            LayoutKernels.convert(dims: g.dstDims, from: .plain, to: dst.layout, src: y.pointer, dst: dst.pointer)
            withExtendedLifetime(kept) {}
            return
        }
        count(g)
        let wMD = p.md(dnnl_query_weights_md)
        let (w, scratch) = constantWeights.map { ReorderedWeights.shared.get($0, key: "\(g)|\(mdKey(wMD))") {
            preparedWeights(weights, g, want: wMD)
        } } ?? preparedWeights(weights, g, want: wMD)
        var args = [(Arg.src, MD.of(g.srcDims, src.layout), src.raw), (Arg.weights, wMD, w),
                    (Arg.dst, MD.of(g.dstDims, dst.layout), dst.raw)]
        if let bias { args.append((Arg.bias, MD.plain([g.o]), UnsafeMutableRawPointer(bias))) }
        p.execute(args)
        withExtendedLifetime(scratch) {}
    }

    /// diffSrc = gradient of the loss with respect to the input.
    public static func backwardData(_ g: ConvGeometry, diffDst: Operand, weights: UnsafeMutablePointer<Float>,
                                    diffSrc: Operand) {
        let p = backwardDataPrimitive(g, diffSrc.layout, diffDst.layout)
        if onlyReference(p, diffSrc.layout, diffDst.layout, plain: { backwardDataPrimitive(g, .plain, .plain) }) {
            let (gy, kept) = plainCopy(diffDst, g.dstDims), gx = Buffer(count: g.srcDims.reduce(1, *))
            backwardData(g, diffDst: gy, weights: weights, diffSrc: Operand(gx.pointer, .plain))
            LayoutKernels.convert(dims: g.srcDims, from: .plain, to: diffSrc.layout, src: gx.pointer, dst: diffSrc.pointer)
            withExtendedLifetime(kept) {}
            return
        }
        count(g)
        let wMD = p.md(dnnl_query_weights_md)
        let (w, scratch) = preparedWeights(weights, g, want: wMD)
        p.execute([(Arg.diffDst, MD.of(g.dstDims, diffDst.layout), diffDst.raw), (Arg.weights, wMD, w),
                   (Arg.diffSrc, MD.of(g.srcDims, diffSrc.layout), diffSrc.raw)])
        withExtendedLifetime(scratch) {}
    }

    static func backwardDataPrimitive(_ g: ConvGeometry, _ diffSrc: Layout, _ diffDst: Layout) -> Primitive {
        let hint = forwardPrimitive(g, src: diffSrc, dst: diffDst, bias: false)
        return PrimitiveCache.shared.get(key("bwd_data", g, diffSrc, diffDst, false)) {
            if g.transposed {
                var sMD = MD.of(g.srcDims, diffSrc), dMD = MD.of(g.dstDims, diffDst)
                var wMD = MD.any(g.dnnlWeightDims)
                var d = dnnl_deconvolution_desc_t()
                dnnlCheck(dnnl_dilated_deconvolution_backward_data_desc_init(&d, dnnl_deconvolution_direct,
                    &sMD, &wMD, &dMD, g.strides, g.dilates, g.padL, g.padR), "deconv bwd data \(g)")
                return Primitive(desc: d, hint: hint, what: "\(g)")
            }
            return withAlgorithm(g, diffSrc, diffDst) { alg in
                (describeBackwardData(g, diffSrc: diffSrc, diffDst: diffDst, algorithm: alg), nil, hint)
            }
        }
    }

    /// diffWeights (PyTorch layout) and diffBias = gradients of the loss; both are overwritten.
    public static func backwardWeights(_ g: ConvGeometry, src: Operand, diffDst: Operand,
                                       diffWeights: UnsafeMutablePointer<Float>,
                                       diffBias: UnsafeMutablePointer<Float>?) {
        let hasBias = diffBias != nil
        let p = backwardWeightsPrimitive(g, src.layout, diffDst.layout, hasBias)
        if onlyReference(p, src.layout, diffDst.layout, plain: { backwardWeightsPrimitive(g, .plain, .plain, hasBias) }) {
            let (x, keptX) = plainCopy(src, g.srcDims), (gy, keptY) = plainCopy(diffDst, g.dstDims)
            backwardWeights(g, src: x, diffDst: gy, diffWeights: diffWeights, diffBias: diffBias)
            withExtendedLifetime((keptX, keptY)) {}
            return
        }
        count(g)
        let wMD = p.md(dnnl_query_diff_weights_md)
        let user = MD.tag(g.dnnlWeightDims, g.userWeightTag)
        let direct = MD.equal(user, wMD)
        let scratch = direct ? nil : Buffer(count: MD.size(wMD))
        let wPtr = direct ? UnsafeMutableRawPointer(diffWeights) : UnsafeMutableRawPointer(scratch!.pointer)
        var args = [(Arg.src, MD.of(g.srcDims, src.layout), src.raw),
                    (Arg.diffDst, MD.of(g.dstDims, diffDst.layout), diffDst.raw), (Arg.diffWeights, wMD, wPtr)]
        if let diffBias { args.append((Arg.diffBias, MD.plain([g.o]), UnsafeMutableRawPointer(diffBias))) }
        p.execute(args)
        if let scratch {
            Primitive.reorder(UnsafeMutableRawPointer(scratch.pointer), from: wMD, to: user,
                              into: UnsafeMutableRawPointer(diffWeights))
        }
    }

    static func backwardWeightsPrimitive(_ g: ConvGeometry, _ src: Layout, _ diffDst: Layout, _ hasBias: Bool) -> Primitive {
        let hint = forwardPrimitive(g, src: src, dst: diffDst, bias: hasBias)
        return PrimitiveCache.shared.get(key("bwd_w", g, src, diffDst, hasBias)) {
            if g.transposed {
                var sMD = MD.of(g.srcDims, src), dMD = MD.of(g.dstDims, diffDst)
                var wMD = MD.any(g.dnnlWeightDims), bMD = MD.plain([g.o])
                var d = dnnl_deconvolution_desc_t()
                withUnsafeMutablePointer(to: &bMD) { bp in
                    dnnlCheck(dnnl_dilated_deconvolution_backward_weights_desc_init(&d, dnnl_deconvolution_direct,
                        &sMD, &wMD, (hasBias ? bp : nil), &dMD, g.strides, g.dilates, g.padL, g.padR),
                              "deconv bwd weights \(g)")
                }
                return Primitive(desc: d, hint: hint, what: "\(g)")
            }
            return Primitive(desc: describeBackwardWeights(g, src: src, diffDst: diffDst, bias: hasBias),
                             hint: hint, what: "\(g)")
        }
    }

    /// A 2x2 stride-2 transposed convolution at inference, as a 1x1 convolution to 4·O channels (one group of O
    /// per position in the 2x2 output cell) and a depth-to-space copy that adds the bias. Same arithmetic, but
    /// oneDNN's 1x1 kernel runs near the FMA peak where its transposed convolution does not: on AVX2 the U-Net's
    /// four upsamplings took ~16 ms of a 256² inference pass at ~67 GFLOP/s (`ONEDNN_VERBOSE=1`). The rearranged
    /// weights of a loaded model are kept like its reordered ones.
    static func upsampleThroughPointwise(_ g: ConvGeometry, src: Operand, weights: UnsafeMutablePointer<Float>,
                                         bias: UnsafeMutablePointer<Float>?, dst: Operand, constantWeights: Buffer?) {
        let shuffle = { () -> (UnsafeMutableRawPointer, Buffer?) in
            // [C, O, 2, 2] → [4·O, C]: row (2a + b)·O + o holds W[·, o, a, b]
            let out = Buffer(count: 4 * g.o * g.c)
            for c in 0..<g.c { for o in 0..<g.o { for q in 0..<4 {
                out.pointer[(q * g.o + o) * g.c + c] = weights[(c * g.o + o) * 4 + q]
            } } }
            return (UnsafeMutableRawPointer(out.pointer), out)
        }
        let (_, shuffled) = constantWeights.map { ReorderedWeights.shared.get($0, key: "\(g)|pointwise", shuffle) } ?? shuffle()
        let pointwise = ConvGeometry(n: g.n, c: g.c, h: g.h, w: g.w, o: 4 * g.o, kh: 1, kw: 1)
        let y = Buffer(count: pointwise.dstDims.reduce(1, *))
        forward(pointwise, src: src, weights: shuffled!.pointer, bias: nil, dst: Operand(y.pointer, src.layout),
                training: false, constantWeights: constantWeights == nil ? nil : shuffled)
        DepthToSpaceKernels.forward(n: g.n, o: g.o, h: g.h, w: g.w, block: src.layout.blockWidth!, x: y.pointer,
                                    bias: bias.map { UnsafePointer($0) }, y: dst.pointer)
    }

    /// Whether `primitive` is oneDNN's reference loop for a blocked layout pair while the plain pair has an
    /// optimised kernel. Some pairs have none on some ISAs: on AVX2, the weight gradient of a convolution from a
    /// plain 1-channel image to 8-channel-blocked features (a U-Net's first layer, a discriminator's) ran 10 s
    /// per step in the reference loop. Such calls run on plain copies instead, where oneDNN's GEMM convolution
    /// covers every shape; the copies cost one reorder per operand.
    static func onlyReference(_ primitive: Primitive, _ a: Layout, _ b: Layout, plain: () -> Primitive) -> Bool {
        primitive.isReference && (a.isBlocked || b.isBlocked) && !plain().isReference
    }

    /// `operand` in plain layout: itself, or a copy whose buffer the caller keeps alive while it is used.
    static func plainCopy(_ operand: Operand, _ dims: [Int]) -> (Operand, Buffer?) {
        guard operand.layout.isBlocked else { return (operand, nil) }
        let copy = Buffer(count: dims.reduce(1, *))
        LayoutKernels.convert(dims: dims, from: operand.layout, to: .plain, src: operand.pointer, dst: copy.pointer)
        return (Operand(copy.pointer, .plain), copy)
    }
}

/// Reordered copies of weights that do not change (inference), keyed by the weights' buffer and the layout
/// wanted. Entries hold the source buffer strongly, so its identity cannot be reused by another tensor while
/// cached.
final class ReorderedWeights: @unchecked Sendable {
    static let shared = ReorderedWeights()
    private var entries: [String: (source: Buffer, data: UnsafeMutableRawPointer, scratch: Buffer?)] = [:]
    private let lock = NSLock()

    func get(_ source: Buffer, key: String, _ make: () -> (UnsafeMutableRawPointer, Buffer?)) -> (UnsafeMutableRawPointer, Buffer?) {
        let k = "\(ObjectIdentifier(source).hashValue)|\(key)"
        lock.lock(); defer { lock.unlock() }
        if let e = entries[k], e.source === source { return (e.data, e.scratch) }
        let (data, scratch) = make()
        entries[k] = (source, data, scratch)
        return (data, scratch)
    }
}
