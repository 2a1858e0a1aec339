import SonoBase
import SonoTensor
/// 2-D convolution: input [N, inputChannels, H, W] → [N, outputChannels, OH, OW].
/// Parameters: `weight` [O, I/groups, KH, KW], `bias` [O].
public final class Conv2D: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int
    public var isTraining = true

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2D: channels \(inputChannels)->\(outputChannels) not divisible by groups \(groups)")
        let fanIn = inputChannels / groups * kernelSize * kernelSize
        weight = parameter([outputChannels, inputChannels / groups, kernelSize, kernelSize], fanIn: fanIn, rng: &rng)
        self.bias = bias ? parameter([outputChannels], fanIn: fanIn, rng: &rng) : nil
        (self.stride, self.padding, self.dilation, self.groups) = ((stride, stride), (padding, padding), (dilation, dilation), groups)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Transposed convolution (PyTorch's ConvTranspose2d): `weight` [I, O/groups, KH, KW], `bias` [O].
public final class ConvTranspose2D: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), groups: Int
    public var isTraining = true

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, groups: Int = 1, bias: Bool = true, rng: inout RandomGenerator) {
        // PyTorch computes fan-in from weight dim 1 (O/groups) for transposed convolutions.
        let fanIn = outputChannels / groups * kernelSize * kernelSize
        weight = parameter([inputChannels, outputChannels / groups, kernelSize, kernelSize], fanIn: fanIn, rng: &rng)
        self.bias = bias ? parameter([outputChannels], fanIn: fanIn, rng: &rng) : nil
        (self.stride, self.padding, self.outputPadding, self.groups) = ((stride, stride), (padding, padding), (outputPadding, outputPadding), groups)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups)
    }
}
