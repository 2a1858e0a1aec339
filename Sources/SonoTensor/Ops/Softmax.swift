import SonoKernels
/// Softmax and log-softmax along one axis, numerically stable (the maximum along the axis is subtracted
/// before exp). The tensor is seen as [outer, n, inner] around the axis, i.e. outer·inner "lines" of n values.
/// SIMD runs across a vector of lines at once while stepping along the axis (`AxisLanes`, SonoKernels), so
/// exp/log are always vectorised.
extension Tensor {
    /// exp(x − max) / Σ exp(x − max) along `axis`; same shape and layout.
    public func softmax(axis: Int) -> Tensor {
        let (x, lanes) = softmaxInput(axis, "softmax")
        let y = Tensor.empty(x.shape)
        let n = lanes.n
        lanes.forEachBlock { b in
            // y holds exp(x − max) after this; s is its sum.
            let (_, s) = Self.maxAndSumOfExp(b, x, n, storingExpIn: y)
            let inv = 1 / s
            for k in 0..<n { b.store(b.load(y.ptr, k) * inv, y.ptr, k) }
        }
        let layout = self.layout
        return y.contiguous(layout).recorded([self]) { g, _ in
            // dx = y · (g − Σ g·y)
            let gp = g.contiguousPlain(), gx = Tensor.empty(x.shape)
            lanes.forEachBlock { b in
                var d = V16()
                for k in 0..<n { d += b.load(gp.ptr, k) * b.load(y.ptr, k) }
                for k in 0..<n { b.store(b.load(y.ptr, k) * (b.load(gp.ptr, k) - d), gx.ptr, k) }
            }
            return [gx.contiguous(layout)]
        }
    }

    /// x − max − log Σ exp(x − max) along `axis`; same shape and layout.
    public func logSoftmax(axis: Int) -> Tensor {
        let (x, lanes) = softmaxInput(axis, "logSoftmax")
        let y = Tensor.empty(x.shape)
        let n = lanes.n
        lanes.forEachBlock { b in
            let (m, s) = Self.maxAndSumOfExp(b, x, n, storingExpIn: nil)
            let shift = m + vlog(s)
            for k in 0..<n { b.store(b.load(x.ptr, k) - shift, y.ptr, k) }
        }
        let layout = self.layout
        return y.contiguous(layout).recorded([self]) { g, _ in
            // dx = g − softmax · Σ g, with softmax = exp(y)
            let gp = g.contiguousPlain(), gx = Tensor.empty(x.shape)
            lanes.forEachBlock { b in
                var d = V16()
                for k in 0..<n { d += b.load(gp.ptr, k) }
                for k in 0..<n { b.store(b.load(gp.ptr, k) - vexp(b.load(y.ptr, k)) * d, gx.ptr, k) }
            }
            return [gx.contiguous(layout)]
        }
    }

    /// The maximum m of the block's lines along the axis and Σ exp(x − m), both per lane; with `storingExpIn`,
    /// exp(x − m) is also written there.
    @inline(__always)
    static func maxAndSumOfExp(_ b: AxisLanes.Block, _ x: Tensor, _ n: Int, storingExpIn y: Tensor?) -> (max: V16, sum: V16) {
        var m = V16(repeating: -.infinity)
        for k in 0..<n { m = pointwiseMax(m, b.load(x.ptr, k)) }
        var s = V16()
        for k in 0..<n {
            let e = vexp(b.load(x.ptr, k) - m)
            if let y { b.store(e, y.ptr, k) }
            s += e
        }
        return (m, s)
    }

    private func softmaxInput(_ axis: Int, _ name: String) -> (Tensor, AxisLanes) {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank && shape[a] > 0, "\(name): axis \(axis) out of range for shape \(shape)")
        let lanes = AxisLanes(outer: shape[..<a].reduce(1, *), n: shape[a], inner: shape[(a + 1)...].reduce(1, *))
        return (contiguousPlain(), lanes)
    }
}
