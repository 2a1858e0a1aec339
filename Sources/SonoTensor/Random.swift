/// Seeded, explicit random numbers (xoshiro256**, seeded through SplitMix64). Every consumer takes one of
/// these as a parameter, so the same seed gives the same weights, batches and loss curve.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1.0p-53 + 0x1.0p-54, u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// An independent generator derived from this one (for a worker or a sub-task).
    public mutating func fork() -> RandomGenerator { RandomGenerator(seed: next()) }
}

extension Tensor {
    /// Uniform values in [lo, hi).
    public static func uniform(_ shape: [Int], lo: Float, hi: Float, rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        let b = Buffer(count: n)
        for i in 0..<n { b.pointer[i] = lo + (hi - lo) * rng.uniform() }
        return Tensor(shape: shape, buffer: b, requiresGrad: requiresGrad)
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        let b = Buffer(count: n)
        for i in 0..<n { b.pointer[i] = mean + std * rng.normal() }
        return Tensor(shape: shape, buffer: b, requiresGrad: requiresGrad)
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
