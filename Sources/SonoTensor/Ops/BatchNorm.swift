import SonoKernels
/// Batch normalisation (oneDNN) over N, H, W per channel of [N, C, H, W] (or N per feature of [N, C]).
extension Tensor {
    /// Training: normalise with the batch statistics and return them (mean, biased variance) so the caller
    /// can update running averages. Inference: pass `running` statistics.
    /// With `fuseReLU`, returns max(0, batchNorm(x)) computed in the same oneDNN pass.
    public func batchNorm(scale: Tensor, shift: Tensor, eps: Float = 1e-5,
                          running: (mean: Tensor, variance: Tensor)? = nil,
                          fuseReLU: Bool = false) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        precondition(rank == 4 || rank == 2, "batchNorm needs [N, C, H, W] or [N, C], got \(shape)")
        let c = shape[1]
        precondition(scale.shape == [c] && shift.shape == [c], "batchNorm: scale \(scale.shape) and shift \(shift.shape) should be [\(c)]")
        let x4 = rank == 4 ? self : reshaped([shape[0], c, 1, 1])
        let dims = x4.shape, layout = x4.layout
        let training = running == nil
        let mean = running?.mean.contiguousPlain() ?? Tensor.empty([c])
        let variance = running?.variance.contiguousPlain() ?? Tensor.empty([c])
        let out = Tensor.empty(dims, layout)
        let sc = scale.contiguousPlain(), sh = shift.contiguousPlain()
        let workspace = training && fuseReLU ? Buffer(count: BatchNormKernels.workspaceCount(dims: dims, layout: layout, eps: eps)) : nil
        BatchNormKernels.forward(dims: dims, layout: layout, eps: eps, training: training, fuseReLU: fuseReLU,
                                 src: x4.ptr, dst: out.ptr, scale: sc.ptr, shift: sh.ptr, mean: mean.ptr,
                                 variance: variance.ptr, workspace: workspace?.pointer)
        let y = out.recorded([x4, scale, shift]) { gy, needs in
            var gy = gy.contiguous(layout)
            if !training {
                // The ReLU's gradient passes where the output is positive.
                if fuseReLU { gy = gy.combine(out) { d, y in vselect(vmask(y .> 0), d, V16()) } }
                // Fixed statistics: y = scale * (x - mean) / sqrt(var + eps) + shift, an affine map.
                let inv = variance.map { 1 / ($0 + eps).squareRoot() }
                let k = (sc * inv).reshapedNoGrad([1, c, 1, 1])
                let gx = needs[0] ? gy.contiguousPlain() * k : nil
                let xhat = (x4.contiguousPlain() - mean.reshapedNoGrad([1, c, 1, 1])) * inv.reshapedNoGrad([1, c, 1, 1])
                let gp = gy.contiguousPlain()
                return [gx?.contiguous(layout), (gp * xhat).sum(axes: [0, 2, 3]), gp.sum(axes: [0, 2, 3])]
            }
            let gx = Tensor.empty(dims, layout), gs = Tensor.empty([c]), gb = Tensor.empty([c])
            BatchNormKernels.backward(dims: dims, layout: layout, eps: eps, fuseReLU: fuseReLU, src: x4.ptr, diffDst: gy.ptr, scale: sc.ptr,
                                      shift: sh.ptr, mean: mean.ptr, variance: variance.ptr, diffSrc: gx.ptr, diffScale: gs.ptr,
                                      diffShift: gb.ptr, workspace: workspace?.pointer)
            return [gx, gs, gb]
        }
        return (rank == 4 ? y : y.reshaped(shape), mean, variance)
    }
}
