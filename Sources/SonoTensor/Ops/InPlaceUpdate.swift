import SonoKernels

/// 16 floats, the unit the fused update closures work on (the standard library's SIMD16).
public typealias Lanes = SIMD16<Float>

/// In-place updates outside the tape: optimizer steps, running statistics, gradient rows. One fused pass over
/// a parameter, its gradient and up to two state tensors, in 16-lane slices spread over the cores. Every
/// element gets the same arithmetic whatever the split (the tail runs on a zero-padded vector and stores only
/// its live lanes), so updates are bit-identical across thread counts: a resumed run matches an uninterrupted one.
extension Tensor {
    /// Chunks below this run on the calling thread: dispatch costs more than updating 16k floats.
    static let updateMinChunk = 16_384

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> Lanes {
        if n == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self) }
        var v = Lanes()
        for k in 0..<n { v[k] = p[i + k] }
        return v
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if n == 16 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self); return }
        for k in 0..<n { p[i + k] = v[k] }
    }

    private func checkUpdate(_ others: [Tensor], _ what: String) {
        precondition(layout == .plain, "\(what): the updated tensor \(shape) must be plain, it is \(layout)")
        for t in others {
            precondition(t.count == count && t.layout == .plain,
                         "\(what): \(t.shape) (\(t.layout)) does not match the updated tensor \(shape)")
        }
    }

    /// self ← f(self, g), element by element, in place. `g` is read in logical order whatever its layout.
    public func update(with g: Tensor, _ f: (inout Lanes, Lanes) -> Void) {
        let g = g.plainStorage()
        checkUpdate([g], "update(with:)")
        let (theta, grad) = (buffer.pointer, g.buffer.pointer)
        Parallel.forRanges(count, minChunk: Self.updateMinChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = Self.load(theta, i, n)
                f(&t, Self.load(grad, i, n))
                Self.store(t, theta, i, n)
                i += 16
            }
        }
    }

    /// (self, s) ← f(self, g, s), in place: one state tensor (SGD's momentum).
    public func update(with g: Tensor, state s: Tensor, _ f: (inout Lanes, Lanes, inout Lanes) -> Void) {
        let g = g.plainStorage()
        checkUpdate([g, s], "update(with:state:)")
        let (theta, grad, sp) = (buffer.pointer, g.buffer.pointer, s.buffer.pointer)
        Parallel.forRanges(count, minChunk: Self.updateMinChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = Self.load(theta, i, n), a = Self.load(sp, i, n)
                f(&t, Self.load(grad, i, n), &a)
                Self.store(t, theta, i, n)
                Self.store(a, sp, i, n)
                i += 16
            }
        }
    }

    /// (self, s1, s2) ← f(self, g, s1, s2), in place: two state tensors (Adam's moments).
    public func update(with g: Tensor, state s1: Tensor, _ s2: Tensor,
                       _ f: (inout Lanes, Lanes, inout Lanes, inout Lanes) -> Void) {
        let g = g.plainStorage()
        checkUpdate([g, s1, s2], "update(with:state:)")
        let (theta, grad, p1, p2) = (buffer.pointer, g.buffer.pointer, s1.buffer.pointer, s2.buffer.pointer)
        Parallel.forRanges(count, minChunk: Self.updateMinChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = Self.load(theta, i, n), a = Self.load(p1, i, n), b = Self.load(p2, i, n)
                f(&t, Self.load(grad, i, n), &a, &b)
                Self.store(t, theta, i, n)
                Self.store(a, p1, i, n)
                Self.store(b, p2, i, n)
                i += 16
            }
        }
    }

    /// Rows `rows[k]` of this [R, D] matrix and of two state matrices of its shape, updated from `gradients[k]`
    /// (D floats each): f(k, θ, g, s1, s2) on 16-lane slices of each row, rows spread over the cores. The
    /// sparse counterpart of `update(with:state:_:)` (embedding tables, where a step touches a few rows).
    public func updateRows(_ rows: [Int], gradients: [[Float]], state s1: Tensor, _ s2: Tensor,
                           _ f: (Int, inout Lanes, Lanes, inout Lanes, inout Lanes) -> Void) {
        precondition(shape.count == 2 && rows.count == gradients.count, "updateRows: [R, D] matrix and one gradient per row")
        checkUpdate([s1, s2], "updateRows")
        let d = shape[1]
        let (theta, p1, p2) = (buffer.pointer, s1.buffer.pointer, s2.buffer.pointer)
        Parallel.forRanges(rows.count, minChunk: Swift.max(1, Self.updateMinChunk / Swift.max(d, 1))) { r in
            for k in r {
                let off = rows[k] * d
                precondition(gradients[k].count == d, "updateRows: gradient \(k) has \(gradients[k].count) values, rows have \(d)")
                gradients[k].withUnsafeBufferPointer { g in
                    var i = 0
                    while i < d {
                        let n = min(16, d - i)
                        var t = Self.load(theta + off, i, n), a = Self.load(p1 + off, i, n), b = Self.load(p2 + off, i, n)
                        f(k, &t, Self.load(g.baseAddress!, i, n), &a, &b)
                        Self.store(t, theta + off, i, n)
                        Self.store(a, p1 + off, i, n)
                        Self.store(b, p2 + off, i, n)
                        i += 16
                    }
                }
            }
        }
    }

    /// Σ x² over all elements, in Double (gradient norms).
    public func sumOfSquares() -> Double {
        let plain = plainStorage()
        return Elementwise.reduceSum(plain.count, plain.buffer.pointer) { $0 * $0 }
    }

    /// A plain tensor of `shape` whose values `fill` writes in logical order (decoders, state restored from files).
    public convenience init(shape: [Int], filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        let b = Buffer(count: n)
        fill(UnsafeMutableBufferPointer(start: b.pointer, count: n))
        self.init(shape: shape, buffer: b)
    }

    /// A plain copy that shares nothing with this tensor (optimizer state handed to a checkpoint).
    public func plainCopy() -> Tensor {
        let plain = plainStorage()
        return Tensor(shape: shape, buffer: plain.buffer === buffer ? buffer.copy() : plain.buffer)
    }

    /// The values in logical order, read in place.
    public func withPlainValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let plain = plainStorage()
        return try withExtendedLifetime(plain) { try body(UnsafeBufferPointer(start: plain.buffer.pointer, count: plain.count)) }
    }
}

extension Tensor {
    /// Copies `source`'s values into this tensor's storage (same shape; any layouts): loading weights.
    public func assign(_ source: Tensor) {
        precondition(source.shape == shape, "assign: source \(source.shape) does not match \(shape)")
        let src = source.storage(in: layout)
        buffer.pointer.update(from: src.buffer.pointer, count: count)
    }
}
