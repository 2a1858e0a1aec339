import SonoBase
import SonoTensor
/// Affine map on the last dimension: [M, inputFeatures] → [M, outputFeatures]. `weight` [out, in], `bias` [out].
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public var isTraining = true

    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        weight = parameter([outputFeatures, inputFeatures], fanIn: inputFeatures, rng: &rng)
        self.bias = bias ? parameter([outputFeatures], fanIn: inputFeatures, rng: &rng) : nil
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if x.rank == 2 { return x.linear(weight, bias: bias) }
        // [..., in] → flatten the leading dimensions
        let lead = Array(x.shape.dropLast())
        return x.reshaped([-1, x.shape.last!]).linear(weight, bias: bias).reshaped(lead + [weight.shape[0]])
    }
}
