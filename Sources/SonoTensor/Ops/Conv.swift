import SonoKernels
/// 2-D convolution and transposed convolution (oneDNN). Activations leave in the blocked layout when their
/// channel count allows, so a chain of conv → batch norm → ReLU → pool never converts.
extension Tensor {
    /// input [N, C, H, W], weight [O, C/groups, KH, KW], bias [O] → [N, O, OH, OW]. With `relu`, max(0, ·)
    /// is applied inside the convolution kernel (one pass over the output instead of two): used with batch norm
    /// folded into the weights at inference.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1,
                       relu: Bool = false) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d needs input [N, C, H, W] and weight [O, C/g, KH, KW], got \(shape) and \(weight.shape)")
        precondition(shape[1] == weight.shape[1] * groups && weight.shape[0] % groups == 0,
                     "conv2d: input channels \(shape[1]) do not match weight \(weight.shape) with groups \(groups)")
        var g = ConvGeometry(n: shape[0], c: shape[1], h: shape[2], w: shape[3], o: weight.shape[0],
                             kh: weight.shape[2], kw: weight.shape[3])
        (g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups) =
            (stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1, groups)
        return convolution(g, weight, bias, relu: relu)
    }

    /// Transposed convolution (PyTorch's ConvTranspose2d): input [N, C, H, W], weight [C, O/groups, KH, KW],
    /// bias [O] → [N, O, (H-1)·s - 2p + d(K-1) + 1 + outputPadding, …].
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "convTranspose2d needs input [N, C, H, W] and weight [C, O/g, KH, KW], got \(shape) and \(weight.shape)")
        precondition(shape[1] == weight.shape[0], "convTranspose2d: input channels \(shape[1]) do not match weight \(weight.shape)")
        var g = ConvGeometry(n: shape[0], c: shape[1], h: shape[2], w: shape[3], o: weight.shape[1] * groups,
                             kh: weight.shape[2], kw: weight.shape[3])
        (g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups) =
            (stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1, groups)
        (g.outputPadH, g.outputPadW) = outputPadding
        g.transposed = true
        return convolution(g, weight, bias)
    }

    private func convolution(_ g: ConvGeometry, _ weight: Tensor, _ bias: Tensor?, relu: Bool = false) -> Tensor {
        if let bias { precondition(bias.shape == [g.o], "bias shape \(bias.shape) should be [\(g.o)]") }
        precondition(g.outH > 0 && g.outW > 0, "\(g): output would be empty")
        let outLayout = Layout.preferred(for: g.dstDims)
        let w = weight.contiguousPlain(), b = bias?.contiguousPlain()
        if layout.isBlocked && outLayout == .plain && g.kh == 1 && g.kw == 1 &&
            g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0 && g.groups == 1 && !g.transposed {
            let head = pointwiseHead(g, w, b, weight, bias)
            return relu ? head.relu() : head
        }
        // oneDNN has only its reference kernel for other blocked-to-plain convolutions: convert the input.
        let x = outLayout == .plain || (layout.isBlocked && layout != outLayout) ? self.plain() : self
        let out = Tensor.empty(g.dstDims, outLayout)
        ConvKernels.forward(g, src: x.operand, weights: w.ptr, bias: b?.ptr, dst: out.operand,
                            training: GradMode.isEnabled, relu: relu,
                            constantWeights: GradMode.weightsAreConstant && w === weight ? weight.buffer : nil)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return out.recorded(inputs) { gy, needs in
            var gy = gy.contiguous(out.layout)
            if relu { gy = gy.combine(out) { d, y in vselect(vmask(y .> 0), d, V16()) } }
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                gx = Tensor.empty(g.srcDims, x.layout)
                ConvKernels.backwardData(g, diffDst: gy.operand, weights: w.ptr, diffSrc: gx!.operand)
            }
            if needs[1] || (needs.count > 2 && needs[2]) {
                gw = Tensor.empty(g.weightDims)
                gb = needs.count > 2 ? Tensor.empty([g.o]) : nil
                ConvKernels.backwardWeights(g, src: x.operand, diffDst: gy.operand, diffWeights: gw!.ptr,
                                            diffBias: gb?.ptr)
            }
            return [gx, needs[1] ? gw : nil] + (needs.count > 2 ? [gb] : [])
        }
    }

    /// A 1x1 convolution from blocked features to a few plain output channels (segmentation heads).
    private func pointwiseHead(_ g: ConvGeometry, _ w: Tensor, _ b: Tensor?, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        let pixels = g.h * g.w
        let out = Tensor.empty(g.dstDims)
        let x = self, layout = self.layout, block = layout.blockWidth!
        PointwiseKernels.forward(n: g.n, c: g.c, o: g.o, pixels: pixels, block: block, x: x.ptr, w: w.ptr, b: b?.ptr, y: out.ptr)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return out.recorded(inputs) { gy, needs in
            let gy = gy.contiguousPlain()
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                gx = Tensor.empty(g.srcDims, layout)
                PointwiseKernels.backwardData(n: g.n, c: g.c, o: g.o, pixels: pixels, block: block, gy: gy.ptr, w: w.ptr, gx: gx!.ptr)
            }
            if needs.dropFirst().contains(true) {
                gw = Tensor.empty(g.weightDims)
                gb = bias != nil ? Tensor.empty([g.o]) : nil
                PointwiseKernels.backwardWeights(n: g.n, c: g.c, o: g.o, pixels: pixels, block: block, x: x.ptr, gy: gy.ptr, gw: gw!.ptr, gb: gb?.ptr)
            }
            return [gx, gw] + (bias != nil ? [gb] : [])
        }
    }
}
