/// Serial SIMD loops over one contiguous run, for kernels that parallelise over rows themselves (normalisation,
/// softmax): a row is processed by one worker, so these must not dispatch. Tails use the same zero-padded
/// vectors as `Elementwise.map`, so every element sees identical arithmetic.
extension Elementwise {
    /// y[i] = f(x[i]) for i in 0..<count, on the calling thread.
    @inline(__always)
    public static func mapSerial(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 _ f: (V16) -> V16) {
        var i = 0
        while i < count {
            let n = min(16, count - i)
            store(f(load(x, i, n)), y, i, n)
            i += 16
        }
    }

    /// z[i] = f(x[i], y[i]) on the calling thread.
    @inline(__always)
    public static func map2Serial(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                  _ z: UnsafeMutablePointer<Float>, _ f: (V16, V16) -> V16) {
        var i = 0
        while i < count {
            let n = min(16, count - i)
            store(f(load(x, i, n), load(y, i, n)), z, i, n)
            i += 16
        }
    }

    /// w[i] = f(x[i], y[i], z[i]) on the calling thread.
    @inline(__always)
    public static func map3Serial(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                  _ z: UnsafePointer<Float>, _ w: UnsafeMutablePointer<Float>,
                                  _ f: (V16, V16, V16) -> V16) {
        var i = 0
        while i < count {
            let n = min(16, count - i)
            store(f(load(x, i, n), load(y, i, n), load(z, i, n)), w, i, n)
            i += 16
        }
    }

    /// Σ f(x[i], y[i], z[i]) on the calling thread; padded tail lanes are zeroed before they are added.
    /// Float lanes, Double total: rows here are at most a few hundred thousand elements.
    @inline(__always)
    public static func reduceSum3Serial(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                        _ z: UnsafePointer<Float>, _ f: (V16, V16, V16) -> V16) -> Double {
        var acc = V16(), total = 0.0
        var i = 0
        while i < count {
            let n = min(16, count - i)
            var v = f(load(x, i, n), load(y, i, n), load(z, i, n))
            if n < 16 { for k in n..<16 { v[k] = 0 } }
            acc += v
            i += 16
            // flush every 64 vectors so Float lanes never sum more than ~1k terms
            if i & 1023 == 0 { total += Double(acc.sum()); acc = V16() }
        }
        return total + Double(acc.sum())
    }

    /// Σ f(x[i]) on the calling thread.
    @inline(__always)
    public static func reduceSumSerial(_ count: Int, _ x: UnsafePointer<Float>, _ f: (V16) -> V16) -> Double {
        reduceSum3Serial(count, x, x, x) { a, _, _ in f(a) }
    }

    /// Σ f(x[i], y[i]) on the calling thread.
    @inline(__always)
    public static func reduceSum2Serial(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                        _ f: (V16, V16) -> V16) -> Double {
        reduceSum3Serial(count, x, y, y) { a, b, _ in f(a, b) }
    }

    /// max x[i] on the calling thread (−∞ for an empty run).
    @inline(__always)
    public static func maxSerial(_ count: Int, _ x: UnsafePointer<Float>) -> Float {
        var acc = V16(repeating: -.infinity)
        var i = 0
        while i < count {
            let n = min(16, count - i)
            var v = load(x, i, n)
            if n < 16 { for k in n..<16 { v[k] = -.infinity } }
            acc = pointwiseMax(acc, v)
            i += 16
        }
        return acc.max()
    }

    /// Loads lanes x[i..<i+n] (n ≤ 16), zero-padded: for kernels that vectorise across an inner dimension.
    @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> V16 { load(p, i, n) }

    /// Stores the first n lanes of v at p[i...].
    @inline(__always)
    public static func storePartial(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) { store(v, p, i, n) }
}
