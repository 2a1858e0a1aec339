import SonoBase
import SonoKernels
/// Inverted dropout (Srivastava et al. 2014): each element is kept with probability 1 − p and scaled by
/// 1 / (1 − p), so the expected activation is unchanged and inference needs no rescaling.
extension Tensor {
    /// Zeroes elements with probability `p` ∈ [0, 1) and scales survivors by 1/(1 − p); any shape and layout.
    /// `p == 0` returns `self` (identity, nothing drawn). The mask is drawn in physical element order in chunks
    /// of 4096, each from its own generator seeded from `rng`, so the result depends on the seed only — not on
    /// the thread count. The gradient is the same mask times the incoming gradient.
    public func dropout(_ p: Float, rng: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p) for shape \(shape)")
        if p == 0 { return self }
        let n = count, chunk = 4096
        let seeds = (0..<((n + chunk - 1) / chunk)).map { _ in rng.next() }
        let mask = Tensor.empty(shape, layout)
        let keep = 1 / (1 - p), m = mask.ptr
        // Uniforms come from a sequential generator, so this loop is scalar; the multiply below is SIMD.
        Parallel.forRanges(seeds.count, minChunk: 4) { r in
            for c in r {
                var g = RandomGenerator(seed: seeds[c])
                for i in (c * chunk)..<Swift.min(n, (c + 1) * chunk) { m[i] = g.uniform() < p ? 0 : keep }
            }
        }
        let out = Tensor.empty(shape, layout)
        Elementwise.map2(n, ptr, mask.ptr, out.ptr) { $0 * $1 }
        return out.recorded([self]) { g, _ in [g.combine(mask) { $0 * $1 }] }
    }
}
