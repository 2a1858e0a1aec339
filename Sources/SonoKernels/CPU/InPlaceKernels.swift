/// In-place updates of parameter buffers (optimizer steps, running statistics, rows of an embedding table):
/// one fused pass over θ, its gradient and up to two state buffers, in vector slices spread over the cores.
/// Every element gets the same arithmetic whatever the split (the tail runs on a zero-padded vector and stores
/// only its live lanes), so updates are bit-identical across thread counts: a resumed run matches an
/// uninterrupted one. The closures see `V16` lanes; the width and the loop stay here.
public enum InPlace {
    /// Chunks below this run on the calling thread: dispatch costs more than updating 16k floats.
    public static let minChunk = 16_384

    /// Calls `body(i, n)` for each vector slice [i, i + n) of [0, count), slices spread over the cores.
    @inlinable @inline(__always)
    static func slices(_ count: Int, _ body: (_ i: Int, _ n: Int) -> Void) {
        Parallel.forRanges(count, minChunk: minChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                body(i, min(V16.scalarCount, r.upperBound - i))
                i += V16.scalarCount
            }
        }
    }

    /// θ ← f(θ, g)
    @inlinable @inline(__always)
    public static func update(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                              _ f: (inout V16, V16) -> Void) {
        slices(count) { i, n in
            var t = Elementwise.load(theta, i, n)
            f(&t, Elementwise.load(grad, i, n))
            Elementwise.store(t, theta, i, n)
        }
    }

    /// (θ, s) ← f(θ, g, s): one state buffer (SGD's momentum).
    @inlinable @inline(__always)
    public static func update(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                              _ s: UnsafeMutablePointer<Float>, _ f: (inout V16, V16, inout V16) -> Void) {
        slices(count) { i, n in
            var t = Elementwise.load(theta, i, n), a = Elementwise.load(s, i, n)
            f(&t, Elementwise.load(grad, i, n), &a)
            Elementwise.store(t, theta, i, n)
            Elementwise.store(a, s, i, n)
        }
    }

    /// (θ, s1, s2) ← f(θ, g, s1, s2): two state buffers (Adam's moments); `serial` runs on the calling
    /// thread (one row of an embedding table, its rows already spread over the cores).
    @inlinable @inline(__always)
    public static func update(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                              _ s1: UnsafeMutablePointer<Float>, _ s2: UnsafeMutablePointer<Float>, serial: Bool = false,
                              _ f: (inout V16, V16, inout V16, inout V16) -> Void) {
        func slice(_ i: Int, _ n: Int) {
            var t = Elementwise.load(theta, i, n), a = Elementwise.load(s1, i, n), b = Elementwise.load(s2, i, n)
            f(&t, Elementwise.load(grad, i, n), &a, &b)
            Elementwise.store(t, theta, i, n)
            Elementwise.store(a, s1, i, n)
            Elementwise.store(b, s2, i, n)
        }
        guard serial else { return slices(count, slice) }
        for i in stride(from: 0, to: count, by: V16.scalarCount) { slice(i, min(V16.scalarCount, count - i)) }
    }

    /// dst[0..<len] += src[0..<len] (rows of a reduction added into their output).
    @inlinable @inline(__always)
    public static func accumulate(_ len: Int, _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + V16.scalarCount <= len {
            Elementwise.store(Elementwise.load(src, j, V16.scalarCount) + Elementwise.load(dst, j, V16.scalarCount), dst, j, V16.scalarCount)
            j += V16.scalarCount
        }
        while j < len { dst[j] += src[j]; j += 1 }
    }
}

/// A plain [outer, n, inner] buffer as blocks of up to one vector of lines; each block reads and writes one
/// vector per step k along the axis (softmax, log-softmax). For an inner axis neighbouring positions load as
/// one vector; for the last axis (inner == 1) the block's rows are gathered lane by lane. Unused lanes of a
/// partial block read zeros and are never stored.
public struct AxisLanes {
    public let outer: Int, n: Int, inner: Int

    public init(outer: Int, n: Int, inner: Int) { (self.outer, self.n, self.inner) = (outer, n, inner) }

    public struct Block {
        /// Offset of lane 0's element k = 0; `gathered` blocks hold rows of a last-axis reduction.
        @usableFromInline let base: Int, width: Int, stride: Int, gathered: Bool

        @usableFromInline init(base: Int, width: Int, stride: Int, gathered: Bool) {
            (self.base, self.width, self.stride, self.gathered) = (base, width, stride, gathered)
        }

        @inlinable @inline(__always) public func load(_ p: UnsafeMutablePointer<Float>, _ k: Int) -> V16 {
            if !gathered { return Elementwise.load(p, base + k * stride, width) }
            var v = V16()
            for j in 0..<width { v[j] = p[base + j * stride + k] }
            return v
        }

        @inlinable @inline(__always) public func store(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ k: Int) {
            if !gathered { Elementwise.store(v, p, base + k * stride, width); return }
            for j in 0..<width { p[base + j * stride + k] = v[j] }
        }
    }

    /// Runs `body` on every block, in parallel over blocks.
    @inlinable @inline(__always)
    public func forEachBlock(_ body: (Block) -> Void) {
        let (outer, n, inner, w) = (self.outer, self.n, self.inner, V16.scalarCount)
        if inner == 1 {
            // lines are whole rows of n: lane j is row w·b + j, its element k at (w·b + j)·n + k
            let blocks = (outer + w - 1) / w
            Parallel.forRanges(blocks, minChunk: Swift.max(1, 2048 / Swift.max(n, 1))) { r in
                for b in r { body(Block(base: b * w * n, width: Swift.min(w, outer - b * w), stride: n, gathered: true)) }
            }
            return
        }
        let perOuter = (inner + w - 1) / w
        Parallel.forRanges(outer * perOuter, minChunk: Swift.max(1, 2048 / Swift.max(n, 1))) { r in
            for id in r {
                let o = id / perOuter, i0 = (id % perOuter) * w
                body(Block(base: o * n * inner + i0, width: Swift.min(w, inner - i0), stride: inner, gathered: false))
            }
        }
    }
}
