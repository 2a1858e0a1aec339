import SonoBase
import SonoKernels

extension Tensor {
    /// Uniform values in [lo, hi).
    public static func uniform(_ shape: [Int], lo: Float, hi: Float, rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        if rng.skipsTensorDraws { return zeros(shape, requiresGrad: requiresGrad) }
        let n = shape.reduce(1, *)
        let b = Buffer(count: n)
        for i in 0..<n { b.pointer[i] = lo + (hi - lo) * rng.uniform() }
        return Tensor(shape: shape, buffer: b, requiresGrad: requiresGrad)
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        if rng.skipsTensorDraws { return zeros(shape, requiresGrad: requiresGrad) }
        let n = shape.reduce(1, *)
        let b = Buffer(count: n)
        for i in 0..<n { b.pointer[i] = mean + std * rng.normal() }
        return Tensor(shape: shape, buffer: b, requiresGrad: requiresGrad)
    }
}
