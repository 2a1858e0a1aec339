import SonoTensor
import SonoKernels
/// Fused in-place update loops for optimizers: 16-lane SIMD slices of the parameter, its gradient and up to
/// two state buffers, spread over the cores by `Parallel`. Every element gets the same arithmetic whatever the
/// split (the tail runs on a zero-padded vector and stores only its live lanes), so updates are bit-identical
/// across thread counts — a resumed run matches an uninterrupted one.
enum UpdateLoop {
    /// Chunks below this run on the calling thread: dispatch costs more than updating 16k floats.
    static let minChunk = 16_384

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> V16 {
        if n == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: V16.self) }
        var v = V16()
        for k in 0..<n { v[k] = p[i + k] }
        return v
    }

    @inline(__always)
    static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if n == 16 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V16.self); return }
        for k in 0..<n { p[i + k] = v[k] }
    }

    /// θ ← f(θ, g)
    @inline(__always)
    static func run(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                    _ f: (inout V16, V16) -> Void) {
        Parallel.forRanges(count, minChunk: minChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = load(theta, i, n)
                f(&t, load(grad, i, n))
                store(t, theta, i, n)
                i += 16
            }
        }
    }

    /// (θ, s) ← f(θ, g, s)
    @inline(__always)
    static func run(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                    _ s: UnsafeMutablePointer<Float>, _ f: (inout V16, V16, inout V16) -> Void) {
        Parallel.forRanges(count, minChunk: minChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = load(theta, i, n), a = load(s, i, n)
                f(&t, load(grad, i, n), &a)
                store(t, theta, i, n)
                store(a, s, i, n)
                i += 16
            }
        }
    }

    /// (θ, s1, s2) ← f(θ, g, s1, s2)
    @inline(__always)
    static func run(_ count: Int, _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>,
                    _ s1: UnsafeMutablePointer<Float>, _ s2: UnsafeMutablePointer<Float>,
                    _ f: (inout V16, V16, inout V16, inout V16) -> Void) {
        Parallel.forRanges(count, minChunk: minChunk) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = min(16, r.upperBound - i)
                var t = load(theta, i, n), a = load(s1, i, n), b = load(s2, i, n)
                f(&t, load(grad, i, n), &a, &b)
                store(t, theta, i, n)
                store(a, s1, i, n)
                store(b, s2, i, n)
                i += 16
            }
        }
    }
}
