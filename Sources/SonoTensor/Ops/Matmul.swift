import SonoKernels
/// Matrix products (oneDNN matmul) and the affine map of a linear layer.
extension Tensor {
    /// [m, k] · [k, n] → [m, n], or batched [b, m, k] · [b, k, n] → [b, m, n].
    public func matmul(_ other: Tensor) -> Tensor {
        let a = plain(), b = other.plain()
        precondition((a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0]) ||
                     (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1]),
                     "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let batched = a.rank == 3
        let (bt, m, k, n) = batched ? (a.shape[0], a.shape[1], a.shape[2], b.shape[2]) : (1, a.shape[0], a.shape[1], b.shape[1])
        let out = Tensor.empty(batched ? [bt, m, n] : [m, n])
        MatmulKernels.matmul(batch: bt, m: m, n: n, k: k, a: a.ptr, transposeA: false, b: b.ptr, transposeB: false, c: out.ptr)
        return out.recorded([a, b]) { g, needs in
            let g = g.contiguousPlain()
            var ga: Tensor?, gb: Tensor?
            if needs[0] {   // dA = dC · Bᵀ
                ga = Tensor.empty(a.shape)
                MatmulKernels.matmul(batch: bt, m: m, n: k, k: n, a: g.ptr, transposeA: false, b: b.ptr, transposeB: true, c: ga!.ptr)
            }
            if needs[1] {   // dB = Aᵀ · dC
                gb = Tensor.empty(b.shape)
                MatmulKernels.matmul(batch: bt, m: k, n: n, k: m, a: a.ptr, transposeA: true, b: g.ptr, transposeB: false, c: gb!.ptr)
            }
            return [ga, gb]
        }
    }

    /// y = x · Wᵀ + b with PyTorch's weight layout: x [m, in], weight [out, in], bias [out] → [m, out].
    public func linear(_ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let x = plain()
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape) ([out, in])")
        let (m, k, n) = (x.shape[0], x.shape[1], weight.shape[0])
        if let bias { precondition(bias.shape == [n], "linear: bias \(bias.shape) should be [\(n)]") }
        let w = weight.contiguousPlain(), b = bias?.contiguousPlain()
        let out = Tensor.empty([m, n])
        MatmulKernels.matmul(batch: 1, m: m, n: n, k: k, a: x.ptr, transposeA: false, b: w.ptr, transposeB: true,
                             c: out.ptr, bias: b?.ptr)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return out.recorded(inputs) { g, needs in
            let g = g.contiguousPlain()
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {   // dX = dY · W
                gx = Tensor.empty([m, k])
                MatmulKernels.matmul(batch: 1, m: m, n: k, k: n, a: g.ptr, transposeA: false, b: w.ptr, transposeB: false, c: gx!.ptr)
            }
            if needs[1] {   // dW = dYᵀ · X
                gw = Tensor.empty([n, k])
                MatmulKernels.matmul(batch: 1, m: n, n: k, k: m, a: g.ptr, transposeA: true, b: x.ptr, transposeB: false, c: gw!.ptr)
            }
            if needs.count > 2 && needs[2] { gb = g.sum(axes: [0]) }
            return [gx, gw] + (needs.count > 2 ? [gb] : [])
        }
    }

    /// Swaps the last two dimensions.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed needs rank >= 2, got \(shape)")
        var order = Array(0..<rank)
        order.swapAt(rank - 1, rank - 2)
        return permuted(order)
    }
}
