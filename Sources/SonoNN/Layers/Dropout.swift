import SonoBase
import SonoTensor
/// Inverted dropout as a layer: active only while training, the identity in evaluation. Owns its generator
/// (seeded at construction) because `Layer.callAsFunction` takes only the input.
public final class Dropout: Layer {
    public let probability: Float
    public var isTraining = true
    public var rng: RandomGenerator

    public init(_ probability: Float, rng: inout RandomGenerator) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.rng = rng.fork()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        isTraining ? x.dropout(probability, rng: &rng) : x
    }
}
