import SonoTensor
/// Group normalisation of [N, C, H, W] (Wu & He 2018): batch-size independent, so it behaves the same with the
/// batch of 1–4 images a CPU can afford. `groups == channels` is instance norm. Parameters as PyTorch's
/// `nn.GroupNorm` (`weight` 1, `bias` 0).
public final class GroupNorm: Layer {
    public let groups: Int, eps: Float
    public let weight: Tensor, bias: Tensor
    public var isTraining = true

    public init(groups: Int, channels: Int, eps: Float = 1e-5) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        (self.groups, self.eps) = (groups, eps)
        weight = Tensor.full(1, [channels]); weight.requiresGrad = true
        bias = Tensor.zeros([channels], requiresGrad: true)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.groupNorm(groups: groups, scale: weight, shift: bias, eps: eps) }
}

/// Layer normalisation over the trailing dimensions `normalizedShape` (PyTorch's `nn.LayerNorm`).
public final class LayerNorm: Layer {
    public let normalizedShape: [Int], eps: Float
    public let weight: Tensor, bias: Tensor
    public var isTraining = true

    public init(_ normalizedShape: [Int], eps: Float = 1e-5) {
        (self.normalizedShape, self.eps) = (normalizedShape, eps)
        weight = Tensor.full(1, normalizedShape); weight.requiresGrad = true
        bias = Tensor.zeros(normalizedShape, requiresGrad: true)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(Array(x.shape.suffix(normalizedShape.count)) == normalizedShape,
                     "LayerNorm over \(normalizedShape): input \(x.shape) does not end with it")
        return x.layerNorm(dims: normalizedShape.count, scale: weight, shift: bias, eps: eps)
    }
}
