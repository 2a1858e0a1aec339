import SonoKernels
/// Sums, means and maxima over all elements or over axes.
extension Tensor {
    /// Sum of all elements (accumulated in Double), as a scalar tensor.
    public func sum() -> Tensor {
        let s = Float(Elementwise.reduceSum(count, ptr) { $0 })
        let inShape = shape, layout = self.layout
        return Tensor(s).recorded([self]) { g, _ in [Tensor.full(g.item, inShape).contiguous(layout)] }
    }

    public func mean() -> Tensor { sum().scaled(1 / Float(count)) }

    /// Sum over `axes`; kept as size-1 dimensions when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let axes = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        precondition(axes.allSatisfy { $0 >= 0 && $0 < rank }, "sum axes \(axes) out of range for shape \(shape)")
        var x = contiguousPlain()
        var kept = shape
        for a in axes.sorted() {
            let outer = kept[..<a].reduce(1, *), n = kept[a], inner = kept[(a + 1)...].reduce(1, *)
            let out = Tensor.zeros(kept.enumerated().map { $0.offset == a ? 1 : $0.element })
            reduceAxisKernel(x.ptr, outer, n, inner, out.ptr)
            x = out
            kept[a] = 1
        }
        let finalShape = keepDims ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        let inShape = shape, layout = self.layout
        return Tensor(shape: finalShape, buffer: x.buffer).recorded([self]) { g, _ in
            [g.reshapedNoGrad(kept).broadcast(to: inShape).contiguous(layout)]
        }
    }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { $0 < 0 ? $0 + rank : $0 }).map { shape[$0] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims).scaled(1 / Float(n))
    }

    /// Maximum along `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = axis < 0 ? axis + rank : axis
        let x = contiguousPlain()
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var kept = shape
        kept[a] = 1
        let out = Tensor.empty(kept)
        var argmax = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = -Float.infinity, bestK = 0
                for k in 0..<n where x.ptr[(o * n + k) * inner + i] > best { best = x.ptr[(o * n + k) * inner + i]; bestK = k }
                out.ptr[o * inner + i] = best
                argmax[o * inner + i] = bestK
            }
        }
        let finalShape = keepDims ? kept : shape.enumerated().filter { $0.offset != a }.map(\.element)
        let inShape = shape, layout = self.layout
        return Tensor(shape: finalShape, buffer: out.buffer).recorded([self]) { g, _ in
            let gp = g.contiguousPlain()
            let gx = Tensor.zeros(inShape)
            for o in 0..<outer { for i in 0..<inner { gx.ptr[(o * n + argmax[o * inner + i]) * inner + i] = gp.ptr[o * inner + i] } }
            return [gx.contiguous(layout)]
        }
    }
}

/// out[o, i] += sum_k x[o, k, i]
func reduceAxisKernel(_ x: UnsafeMutablePointer<Float>, _ outer: Int, _ n: Int, _ inner: Int, _ out: UnsafeMutablePointer<Float>) {
    if inner == 1 {
        Parallel.forRanges(outer, minChunk: max(1, 32_768 / max(n, 1))) { r in
            for o in r { out[o] += Float(Elementwise.reduceSumSerial(n, x + o * n)) }
        }
        return
    }
    Parallel.forRanges(outer * inner, minChunk: 4096) { r in
        // each worker owns a run of output elements; rows are added with SIMD over the inner dimension
        var idx = r.lowerBound
        while idx < r.upperBound {
            let o = idx / inner, i0 = idx % inner
            let len = Swift.min(inner - i0, r.upperBound - idx)
            let dst = out + idx
            for k in 0..<n {
                let src = x + (o * n + k) * inner + i0
                InPlace.accumulate(len, src, into: dst)
            }
            idx += len
        }
    }
}
