import SonoTensor
/// Batch normalisation of [N, C, H, W] (or [N, C]) per channel. Training uses batch statistics and updates
/// running averages (`runningVar` unbiased, as PyTorch); evaluation uses the running averages.
public final class BatchNorm: Layer {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor
    public let momentum: Float, eps: Float
    public var isTraining = true

    public init(channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = Tensor.full(1, [channels]); weight.requiresGrad = true
        bias = Tensor.zeros([channels], requiresGrad: true)
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.full(1, [channels])
        (self.momentum, self.eps) = (momentum, eps)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public var ownBuffers: [(String, Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, relu: false) }

    /// Normalises and, with `relu`, applies max(0, ·) in the same pass (oneDNN's fused batch norm + ReLU).
    public func forward(_ x: Tensor, relu: Bool) -> Tensor {
        guard isTraining else {
            return x.batchNorm(scale: weight, shift: bias, eps: eps, running: (runningMean, runningVar), fuseReLU: relu).output
        }
        let (y, mean, variance) = x.batchNorm(scale: weight, shift: bias, eps: eps, fuseReLU: relu)
        let n = Float(x.count / x.shape[1])
        let m = momentum, unbias = n / max(n - 1, 1)
        runningMean.update(with: mean) { r, b in r = (1 - m) * r + m * b }
        runningVar.update(with: variance) { r, b in r = (1 - m) * r + m * b * unbias }
        return y
    }
}
