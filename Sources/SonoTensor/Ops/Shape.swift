import SonoKernels
/// Shape ops: reshape, permute, slice, split, concat, broadcast. Forward and VJP side by side.
extension Tensor {
    /// Same elements, new shape (one dimension may be -1). Shares storage with a plain input.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            newShape[i] = count / known
        }
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        let source = plain()
        let oldShape = shape
        return Tensor(shape: newShape, buffer: source.buffer)
            .recorded([source]) { g, _ in [g.plain().reshapedNoGrad(oldShape)] }
    }

    func reshapedNoGrad(_ s: [Int]) -> Tensor { Tensor(shape: s, buffer: contiguousPlain().buffer) }

    /// Flattens all dimensions after the first: [N, ...] -> [N, rest].
    public func flattened() -> Tensor { reshaped([shape[0], -1]) }

    /// Reorders dimensions: `permuted([0, 2, 3, 1])` turns NCHW into NHWC.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) does not match rank \(rank)")
        let x = contiguousPlain()
        let outShape = order.map { shape[$0] }
        let out = Tensor.empty(outShape)
        permuteKernel(x.ptr, shape, order, out.ptr)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return out.recorded([self]) { g, _ in [g.permuted(inverse).contiguous(self.layout)] }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) along axis \(axis) out of bounds for shape \(shape)")
        let x = contiguousPlain()
        var outShape = shape
        outShape[axis] = range.count
        let out = Tensor.empty(outShape)
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        for o in 0..<outer {
            (out.ptr + o * range.count * inner).update(from: x.ptr + (o * shape[axis] + range.lowerBound) * inner,
                                                       count: range.count * inner)
        }
        let inShape = shape, layout = self.layout
        return out.recorded([self]) { g, _ in
            let gx = Tensor.zeros(inShape)
            let gp = g.contiguousPlain()
            for o in 0..<outer {
                (gx.ptr + (o * inShape[axis] + range.lowerBound) * inner).update(from: gp.ptr + o * range.count * inner,
                                                                                count: range.count * inner)
            }
            return [gx.contiguous(layout)]
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        precondition(sizes.reduce(0, +) == shape[axis < 0 ? axis + rank : axis], "split sizes \(sizes) do not sum to dimension of \(shape)")
        var start = 0
        return sizes.map { s in defer { start += s }; return slice(axis: axis, start..<(start + s)) }
    }

    /// Joins tensors along `axis`. Channel concatenation of blocked activations stays blocked (each part's
    /// channels fill whole blocks, so the parts are contiguous runs per image).
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat of no tensors")
        let rank = parts[0].rank
        let axis = axis < 0 ? axis + rank : axis
        for p in parts {
            precondition(p.rank == rank && (0..<rank).allSatisfy { $0 == axis || p.shape[$0] == parts[0].shape[$0] },
                         "concat along axis \(axis): shapes \(parts.map(\.shape)) differ off that axis")
        }
        var outShape = parts[0].shape
        outShape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        let blocked = rank == 4 && axis == 1 && parts[0].layout.isBlocked && parts.allSatisfy { $0.layout == parts[0].layout }
        let layout: Layout = blocked ? parts[0].layout : .plain
        let xs = parts.map { $0.contiguous(layout) }
        let out = Tensor.empty(outShape, layout)
        let outer = outShape[..<axis].reduce(1, *), inner = outShape[(axis + 1)...].reduce(1, *)
        let total = outShape[axis] * inner
        var offset = 0
        for x in xs {
            let run = x.shape[axis] * inner
            for o in 0..<outer { (out.ptr + o * total + offset).update(from: x.ptr + o * run, count: run) }
            offset += run
        }
        let sizes = parts.map { $0.shape[axis] }
        return out.recorded(parts) { g, needs in
            let gp = g.contiguous(layout)
            var offset = 0
            return Swift.zip(sizes, parts).enumerated().map { i, pair in
                let (size, part) = pair
                let run = size * inner
                defer { offset += run }
                guard needs[i] else { return nil }
                let gx = Tensor.empty(part.shape, layout)
                for o in 0..<outer { (gx.ptr + o * run).update(from: gp.ptr + o * total + offset, count: run) }
                return gx.contiguous(part.layout)
            }
        }
    }

    /// Repeats size-1 dimensions (and prepends dimensions) to reach `target`, NumPy-style.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.broadcastShape(shape, target) == target, "cannot broadcast \(shape) to \(target)")
        let x = contiguousPlain()
        let out = Tensor.empty(target)
        broadcastKernel(x.ptr, shape, out.ptr, target)
        let source = shape
        return out.recorded([self]) { g, _ in [g.sum(to: source)] }
    }

    /// Sums a broadcast result back to `target` (the VJP of broadcasting).
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// The NumPy broadcast of two shapes.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = Swift.max(a.count, b.count)
        let pa = [Int](repeating: 1, count: n - a.count) + a, pb = [Int](repeating: 1, count: n - b.count) + b
        return Swift.zip(pa, pb).map { x, y in
            precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
            return Swift.max(x, y)
        }
    }
}

func stridesOf(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

/// out[idx] = x[idx with broadcast dims at 0]; the last dimension is copied as a run or a splat.
func broadcastKernel(_ x: UnsafeMutablePointer<Float>, _ xShape: [Int], _ out: UnsafeMutablePointer<Float>, _ shape: [Int]) {
    let n = shape.count
    let padded = [Int](repeating: 1, count: n - xShape.count) + xShape
    let xs = stridesOf(padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
    let last = Swift.max(shape.last ?? 1, 1)
    let rows = shape.reduce(1, *) / last
    var idx = [Int](repeating: 0, count: Swift.max(n - 1, 0))
    for r in 0..<rows {
        var off = 0
        for d in 0..<(n - 1) { off += idx[d] * xs[d] }
        let dst = out + r * last
        if n == 0 { dst[0] = x[0] } else if xs[n - 1] == 0 {
            dst.update(repeating: x[off], count: last)
        } else {
            dst.update(from: x + off, count: last)
        }
        var d = n - 2
        while d >= 0 { idx[d] += 1; if idx[d] < shape[d] { break }; idx[d] = 0; d -= 1 }
    }
}

func permuteKernel(_ x: UnsafeMutablePointer<Float>, _ shape: [Int], _ order: [Int], _ out: UnsafeMutablePointer<Float>) {
    let n = shape.count
    let inStrides = stridesOf(shape)
    let outShape = order.map { shape[$0] }
    let src = order.map { inStrides[$0] }
    let total = shape.reduce(1, *)
    if n == 0 { out[0] = x[0]; return }
    var idx = [Int](repeating: 0, count: n)
    var off = 0
    for i in 0..<total {
        out[i] = x[off]
        var d = n - 1
        while d >= 0 {
            idx[d] += 1; off += src[d]
            if idx[d] < outShape[d] { break }
            off -= src[d] * outShape[d]; idx[d] = 0; d -= 1
        }
    }
}
