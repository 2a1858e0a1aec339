/// SIMD loops over contiguous Float buffers, spread over the cores by `Parallel`. Callers pass closures on
/// 16-lane vectors; `@inline(__always)` lets the compiler fuse them into one loop. The tail (count % 16) runs
/// through the same closure on a zero-padded vector, so every element sees identical arithmetic.
public enum Elementwise {
    @inlinable @inline(__always)
    @usableFromInline static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> V16 {
        if n == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: V16.self) }
        var v = V16()
        for k in 0..<n { v[k] = p[i + k] }
        return v
    }

    @inlinable @inline(__always)
    @usableFromInline static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if n == 16 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V16.self); return }
        for k in 0..<n { p[i + k] = v[k] }
    }

    /// y[i] = f(x[i])
    @inlinable @inline(__always)
    public static func map(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ f: (V16) -> V16) {
        Parallel.forRanges(count) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let n = min(16, range.upperBound - i)
                store(f(load(x, i, n)), y, i, n)
                i += 16
            }
        }
    }

    /// z[i] = f(x[i], y[i])
    @inlinable @inline(__always)
    public static func map2(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                            _ z: UnsafeMutablePointer<Float>, _ f: (V16, V16) -> V16) {
        Parallel.forRanges(count) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let n = min(16, range.upperBound - i)
                store(f(load(x, i, n), load(y, i, n)), z, i, n)
                i += 16
            }
        }
    }

    /// w[i] = f(x[i], y[i], z[i])
    @inlinable @inline(__always)
    public static func map3(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                            _ z: UnsafePointer<Float>, _ w: UnsafeMutablePointer<Float>,
                            _ f: (V16, V16, V16) -> V16) {
        Parallel.forRanges(count) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let n = min(16, range.upperBound - i)
                store(f(load(x, i, n), load(y, i, n), load(z, i, n)), w, i, n)
                i += 16
            }
        }
    }

    /// Two outputs from one input: (y[i], z[i]) = f(x[i]). Used by fused activations that produce the value
    /// and its derivative in one pass.
    @inlinable @inline(__always)
    public static func map1to2(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               _ z: UnsafeMutablePointer<Float>, _ f: (V16) -> (V16, V16)) {
        Parallel.forRanges(count) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let n = min(16, range.upperBound - i)
                let (a, b) = f(load(x, i, n))
                store(a, y, i, n)
                store(b, z, i, n)
                i += 16
            }
        }
    }

    /// Sum of f(x[i]) in Double per chunk (Float partial sums per vector), so large reductions stay accurate.
    @inlinable @inline(__always)
    public static func reduceSum(_ count: Int, _ x: UnsafePointer<Float>, _ f: (V16) -> V16) -> Double {
        reduceChunks(count) { i, n in f(load(x, i, n)) }
    }

    /// Sum of f(x[i], y[i]) in Double.
    @inlinable @inline(__always)
    public static func reduceSum2(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                  _ f: (V16, V16) -> V16) -> Double {
        reduceChunks(count) { i, n in f(load(x, i, n), load(y, i, n)) }
    }

    /// Σ of `term(i, n)` (the 16 values from i, n of them live) over 0..<count: Float vectors summed per chunk of
    /// 32k elements, chunks summed in Double, in chunk order whatever the thread count.
    @inlinable @inline(__always)
    @usableFromInline static func reduceChunks(_ count: Int, _ term: (Int, Int) -> V16) -> Double {
        let chunk = 32_768
        let chunks = (count + chunk - 1) / chunk
        var partials = [Double](repeating: 0, count: max(chunks, 1))
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forRanges(chunks, minChunk: 4) { r in
                for c in r {
                    var acc = V16()
                    var i = c * chunk
                    let end = min(count, i + chunk)
                    while i < end {
                        let n = min(16, end - i)
                        var v = term(i, n)
                        if n < 16 { for k in n..<16 { v[k] = 0 } }
                        acc += v
                        i += 16
                    }
                    out[c] = Double(acc.sum())
                }
            }
        }
        return partials.reduce(0, +)
    }
}

extension Elementwise {
    /// Sum of a contiguous run on the calling thread (for use inside parallel loops).
    public static func reduceSumSerial(_ count: Int, _ x: UnsafePointer<Float>) -> Double {
        var acc = V16()
        var i = 0
        while i + 16 <= count { acc += UnsafeRawPointer(x + i).loadUnaligned(as: V16.self); i += 16 }
        var s = Double(acc.sum())
        while i < count { s += Double(x[i]); i += 1 }
        return s
    }
}
