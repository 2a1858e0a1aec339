import SonoBase
import SonoNN
import SonoTensor
/// The small custom CNN of Jimenez & Xu's comparison: blocks of 3x3 conv → BN → ReLU → 2x2 max-pool with
/// doubling widths, global average pooling, dropout and a linear classifier.
/// Input [N, inputChannels, H, W] with H, W divisible by 2^blocks → logits [N, classes].
public struct SimpleCNNConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public var inputChannels = 1
    public var classes = 3
    public var widths = [16, 32, 64, 128]
    public var dropout: Float = 0.3
    public init() {}

    enum CodingKeys: String, CodingKey { case inputChannels, classes, widths, dropout }
}

/// conv3x3 → BN → ReLU → max-pool 2: [N, cin, H, W] → [N, cout, H/2, W/2].
public final class ConvBlock: Layer {
    public let conv: Conv2D, bn: BatchNorm
    public var isTraining = true
    public init(_ cin: Int, _ cout: Int, rng: inout RandomGenerator) {
        conv = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, padding: 1, bias: false, rng: &rng)
        bn = BatchNorm(channels: cout)
    }
    public var children: [(String, Module)] { [("conv", conv), ("bn", bn)] }
    public func callAsFunction(_ x: Tensor) -> Tensor { bn(conv(x)).relu().maxPool2d(kernel: (2, 2)) }
}

public final class SimpleCNN: Layer {
    public let config: SimpleCNNConfig
    public let blocks: [ConvBlock]
    public let dropout: Dropout
    public let fc: Linear
    public var isTraining = true

    public init(_ config: SimpleCNNConfig, rng: inout RandomGenerator) {
        precondition(!config.widths.isEmpty && config.widths.allSatisfy { $0 > 0 }, "SimpleCNN: widths must be positive, got \(config.widths)")
        self.config = config
        let ins = [config.inputChannels] + config.widths.dropLast()
        blocks = zip(ins, config.widths).map { ConvBlock($0, $1, rng: &rng) }
        dropout = Dropout(config.dropout, rng: &rng)
        fc = Linear(inputFeatures: config.widths.last!, outputFeatures: config.classes, rng: &rng)
    }

    public var children: [(String, Module)] {
        blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as Module) } + [("dropout", dropout), ("fc", fc)]
    }

    /// Each block's output, strides 2, 4, 8, ….
    public func features(_ x: Tensor) -> [Tensor] {
        let f = 1 << blocks.count
        precondition(x.rank == 4 && x.shape[1] == config.inputChannels && x.shape[2] % f == 0 && x.shape[3] % f == 0,
                     "SimpleCNN: input \(x.shape) must be [N, \(config.inputChannels), H, W] with H, W divisible by \(f)")
        var out: [Tensor] = []
        var h = x
        for b in blocks { h = b(h); out.append(h) }
        return out
    }

    /// x [N, inputChannels, H, W] → logits [N, classes].
    public func callAsFunction(_ x: Tensor) -> Tensor { fc(dropout(features(x).last!.globalAvgPool())) }
}
