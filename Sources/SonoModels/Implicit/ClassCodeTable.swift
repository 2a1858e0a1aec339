import SonoBase
import SonoNN
import SonoTensor
/// Learned codes of a small set of classes (BI-RADS categories, benign/malignant): [classes, dims], looked up
/// with a dense gradient (a handful of rows, all used every few steps, so Adam on the whole table is right).
/// Part of the shipped model, unlike the per-image latents.
public final class ClassCodeTable: Module {
    /// [classes, dims]
    public let weight: Tensor
    public let names: [String]
    public var isTraining = true

    /// Codes drawn from N(0, std²): distinct from the start, so the classes break symmetry.
    public init(names: [String], dims: Int, std: Float = 0.1, rng: inout RandomGenerator) {
        precondition(!names.isEmpty && dims > 0, "ClassCodeTable needs classes and dims > 0, got \(names.count), \(dims)")
        self.names = names
        weight = Tensor.normal([names.count, dims], std: std, rng: &rng, requiresGrad: true)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] }
    public var count: Int { names.count }

    /// indices (each in 0..<count) → [indices.count, dims]
    public func callAsFunction(_ indices: [Int]) -> Tensor { Tensor.embedding(table: weight, indices: indices) }
}

/// Fixed random Fourier features [sin 2πBx, cos 2πBx] of 2-D coordinates; B [features, 2] is a buffer.
public final class FourierFeatures: Module {
    /// [features, 2]
    public let frequencies: Tensor
    public var isTraining = true

    public init(features: Int, scale: Float, rng: inout RandomGenerator) {
        frequencies = Tensor.normal([features, 2], std: scale, rng: &rng)
    }

    public var ownBuffers: [(String, Tensor)] { [("frequencies", frequencies)] }

    /// [N, 2] → [N, 2·features]
    public func callAsFunction(_ coords: Tensor) -> Tensor {
        let phase = coords.linear(frequencies) * (2 * Float.pi)
        return Tensor.concat([phase.sin(), phase.cos()], axis: 1)
    }
}
