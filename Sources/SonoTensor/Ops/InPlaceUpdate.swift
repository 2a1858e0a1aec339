import SonoKernels

/// The lanes the fused update closures work on: SonoKernels' vector (`V16`).
public typealias Lanes = V16

/// In-place updates outside the tape: optimizer steps, running statistics, gradient rows. The loops, the
/// vector width and the split over cores are SonoKernels' (`InPlace`); here the tensors are checked and handed
/// over.
extension Tensor {
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
        InPlace.update(count, buffer.pointer, g.buffer.pointer, f)
    }

    /// (self, s) ← f(self, g, s), in place: one state tensor (SGD's momentum).
    public func update(with g: Tensor, state s: Tensor, _ f: (inout Lanes, Lanes, inout Lanes) -> Void) {
        let g = g.plainStorage()
        checkUpdate([g, s], "update(with:state:)")
        InPlace.update(count, buffer.pointer, g.buffer.pointer, s.buffer.pointer, f)
    }

    /// (self, s1, s2) ← f(self, g, s1, s2), in place: two state tensors (Adam's moments).
    public func update(with g: Tensor, state s1: Tensor, _ s2: Tensor,
                       _ f: (inout Lanes, Lanes, inout Lanes, inout Lanes) -> Void) {
        let g = g.plainStorage()
        checkUpdate([g, s1, s2], "update(with:state:)")
        InPlace.update(count, buffer.pointer, g.buffer.pointer, s1.buffer.pointer, s2.buffer.pointer, f)
    }

    /// Rows `rows[k]` of this [R, D] matrix and of two state matrices of its shape, updated from `gradients[k]`
    /// (D floats each): f(k, θ, g, s1, s2) on vector slices of each row, rows spread over the cores. The
    /// sparse counterpart of `update(with:state:_:)` (embedding tables, where a step touches a few rows).
    public func updateRows(_ rows: [Int], gradients: [[Float]], state s1: Tensor, _ s2: Tensor,
                           _ f: (Int, inout Lanes, Lanes, inout Lanes, inout Lanes) -> Void) {
        precondition(shape.count == 2 && rows.count == gradients.count, "updateRows: [R, D] matrix and one gradient per row")
        checkUpdate([s1, s2], "updateRows")
        let d = shape[1]
        let (theta, p1, p2) = (buffer.pointer, s1.buffer.pointer, s2.buffer.pointer)
        Parallel.forRanges(rows.count, minChunk: Swift.max(1, InPlace.minChunk / Swift.max(d, 1))) { r in
            for k in r {
                let off = rows[k] * d
                precondition(gradients[k].count == d, "updateRows: gradient \(k) has \(gradients[k].count) values, rows have \(d)")
                gradients[k].withUnsafeBufferPointer { g in
                    InPlace.update(d, theta + off, g.baseAddress!, p1 + off, p2 + off, serial: true) { f(k, &$0, $1, &$2, &$3) }
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
