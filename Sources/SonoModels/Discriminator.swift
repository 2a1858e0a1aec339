import SonoBase
import SonoNN
import SonoTensor
/// The per-stage discriminator of Li et al.: five convolutions with kernels 7, 5, 4, 4, 4 (the paper gives
/// only the kernels; strides 2, 2, 2, 2, 1 and LeakyReLU(0.2) follow DCGAN/SegAN practice), then a global mean.
/// Input: a probability map [N, 1, H, W] (predicted, or the ground-truth mask) → one logit per image [N, 1].
public final class Discriminator: Layer {
    public let convs: [Conv2D]
    public var isTraining = true

    public init(inputChannels: Int = 1, width: Int = 32, rng: inout RandomGenerator) {
        let kernels = [7, 5, 4, 4, 4], strides = [2, 2, 2, 2, 1], pads = [3, 2, 1, 1, 1]
        let channels = [inputChannels, width, width * 2, width * 4, width * 8, 1]
        convs = (0..<5).map { i in
            Conv2D(inputChannels: channels[i], outputChannels: channels[i + 1], kernelSize: kernels[i],
                   stride: strides[i], padding: pads[i], rng: &rng)
        }
    }

    public var children: [(String, Module)] { convs.enumerated().map { (String($0.offset), $0.element as Module) } }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, conv) in convs.enumerated() {
            h = conv(h)
            if i < convs.count - 1 { h = h.leakyRelu(0.2) }
        }
        return h.mean(axes: [2, 3])   // [N, 1]
    }
}
