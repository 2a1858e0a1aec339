import Foundation

/// xoshiro256** seeded through SplitMix64: the one generator behind weights, batches, splits and augmentation.
/// Everything random takes one explicitly (no global random state), and its helpers are written out here rather
/// than taken from the standard library, whose algorithms may change between Swift releases and would silently
/// change splits, augmentations and initial weights.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// Set for a network whose every weight is about to be read from a file: random tensors drawn from it are
    /// zeros, made without drawing (a tenth of a one-image `segment` went on initial weights it then overwrote).
    public private(set) var skipsTensorDraws = false

    /// The generator to build a network with just before loading all its weights (`Tensor.normal`/`uniform`
    /// give zeros; scalar draws are unaffected).
    public static var forLoadedWeights: RandomGenerator {
        var g = RandomGenerator(seed: 0)
        g.skipsTensorDraws = true
        return g
    }

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// An independent stream for (seed, a, b, …), e.g. (seed, epoch, sample index): the same inputs give the
    /// same numbers no matter which thread or in which order streams are created.
    public init(seed: UInt64, stream: [UInt64]) {
        var mixer = SplitMix64(seed: seed)
        var mixed = mixer.next()
        for value in stream {
            mixer = SplitMix64(seed: mixed ^ (value &* 0x9E37_79B9_7F4A_7C15))
            mixed = mixer.next()
        }
        self.init(seed: mixed)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// An independent generator derived from this one (for a worker or a sub-task).
    public mutating func fork() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// Uniform Float in [0, 1) with 24 random bits (weights, dropout, coordinates).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal Float (Box–Muller on 53-bit uniforms kept off zero), for weights and latent codes.
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1.0p-53 + 0x1.0p-54, u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// Uniform Double in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform Double in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextDouble() }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { p > 0 && nextDouble() < p }

    /// Uniform integer in 0..<bound (bound > 0), unbiased (rejection sampling).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let r = next()
            if r < limit { return Int(r % b) }
        }
    }

    /// Standard normal Double (Box–Muller), for augmentation. Its own formula, kept apart from `normal()`, so
    /// that recorded seeds keep giving the recorded augmentations and weights.
    public mutating func normalDouble() -> Double {
        let u1 = max(nextDouble(), 1e-300), u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(i, nextInt(below: i + 1)) }
    }
}
