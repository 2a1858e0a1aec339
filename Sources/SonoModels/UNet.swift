@_exported import SonoNN

/// U-Net (Ronneberger et al. 2015) with the choices the Duffy and Li papers ablate.
/// Input [N, inputChannels, H, W] with H and W divisible by 2^depth → logits [N, classes, H, W].
public struct UNetConfig: Codable, Hashable, Sendable {
    /// How the decoder doubles resolution: a learned 2x2 transposed convolution, or fixed upsampling followed
    /// by a 3x3 convolution (Keras' Conv2DTranspose vs UpSampling2D in Duffy et al.).
    public enum Upsampling: String, Codable, Sendable, CaseIterable { case transposed, nearest, bilinear }
    public enum Normalization: String, Codable, Sendable, CaseIterable { case batch, none }

    public var inputChannels = 1
    public var classes = 1
    public var baseChannels = 32
    public var depth = 4
    public var upsampling = Upsampling.transposed
    public var normalization = Normalization.batch
    public init() {}

    enum CodingKeys: String, CodingKey { case inputChannels, classes, baseChannels, depth, upsampling, normalization }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.inputChannels, into: &inputChannels); try c.read(.classes, into: &classes)
        try c.read(.baseChannels, into: &baseChannels); try c.read(.depth, into: &depth)
        try c.read(.upsampling, into: &upsampling); try c.read(.normalization, into: &normalization)
    }
}

/// conv3x3 → norm → ReLU, twice.
public final class DoubleConv: Layer {
    public let conv1: Conv2D, conv2: Conv2D
    public let norm1: BatchNorm?, norm2: BatchNorm?
    public var isTraining = true

    public init(_ cin: Int, _ cout: Int, normalization: UNetConfig.Normalization, rng: inout RandomGenerator) {
        let useBias = normalization == .none
        conv1 = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, padding: 1, bias: useBias, rng: &rng)
        conv2 = Conv2D(inputChannels: cout, outputChannels: cout, kernelSize: 3, padding: 1, bias: useBias, rng: &rng)
        norm1 = normalization == .batch ? BatchNorm(channels: cout) : nil
        norm2 = normalization == .batch ? BatchNorm(channels: cout) : nil
    }

    public var children: [(String, Module)] {
        [("conv1", conv1), ("conv2", conv2)] + (norm1.map { [("norm1", $0), ("norm2", norm2!)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = conv1(x)
        h = norm1.map { $0.forward(h, relu: true) } ?? h.relu()
        h = conv2(h)
        return norm2.map { $0.forward(h, relu: true) } ?? h.relu()
    }
}

/// Doubles resolution and changes channels cin → cout.
public final class UpStep: Layer {
    public let mode: UNetConfig.Upsampling
    public let transposed: ConvTranspose2D?
    public let conv: Conv2D?
    public var isTraining = true

    public init(_ cin: Int, _ cout: Int, mode: UNetConfig.Upsampling, rng: inout RandomGenerator) {
        self.mode = mode
        if mode == .transposed {
            transposed = ConvTranspose2D(inputChannels: cin, outputChannels: cout, kernelSize: 2, stride: 2, rng: &rng)
            conv = nil
        } else {
            transposed = nil
            conv = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, padding: 1, rng: &rng)
        }
    }

    public var children: [(String, Module)] {
        if let transposed { return [("up", transposed)] }
        return [("conv", conv!)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch mode {
        case .transposed: return transposed!(x)
        case .nearest: return conv!(x.upsampled(by: 2, mode: .nearest))
        case .bilinear: return conv!(x.upsampled(by: 2, mode: .bilinear))
        }
    }
}

public final class UNet: Layer {
    public let config: UNetConfig
    public let encoder: [DoubleConv]
    public let up: [UpStep]
    public let decoder: [DoubleConv]
    public let head: Conv2D
    public var isTraining = true

    public init(_ config: UNetConfig, rng: inout RandomGenerator) {
        precondition(config.depth >= 1 && config.baseChannels >= 1, "UNet: depth and base channels must be positive")
        self.config = config
        let w = (0...config.depth).map { config.baseChannels << $0 }
        encoder = (0...config.depth).map { i in DoubleConv(i == 0 ? config.inputChannels : w[i - 1], w[i], normalization: config.normalization, rng: &rng) }
        up = (0..<config.depth).map { i in UpStep(w[i + 1], w[i], mode: config.upsampling, rng: &rng) }
        decoder = (0..<config.depth).map { i in DoubleConv(2 * w[i], w[i], normalization: config.normalization, rng: &rng) }
        head = Conv2D(inputChannels: config.baseChannels, outputChannels: config.classes, kernelSize: 1, rng: &rng)
    }

    public var children: [(String, Module)] {
        encoder.enumerated().map { ("enc.\($0.offset)", $0.element as Module) } +
            up.enumerated().map { ("up.\($0.offset)", $0.element as Module) } +
            decoder.enumerated().map { ("dec.\($0.offset)", $0.element as Module) } + [("head", head)]
    }

    /// The decoder's feature maps, coarsest first (for deep supervision), and the logits.
    public func features(_ x: Tensor) -> (stages: [Tensor], logits: Tensor) {
        let f = 1 << config.depth
        precondition(x.rank == 4 && x.shape[1] == config.inputChannels && x.shape[2] % f == 0 && x.shape[3] % f == 0,
                     "UNet: input \(x.shape) must be [N, \(config.inputChannels), H, W] with H, W divisible by \(f)")
        var skips: [Tensor] = []
        var h = x
        for (i, block) in encoder.enumerated() {
            h = block(h)
            if i < config.depth {
                skips.append(h)
                h = h.maxPool2d(kernel: (2, 2))
            }
        }
        var stages: [Tensor] = []
        for i in stride(from: config.depth - 1, through: 0, by: -1) {
            h = decoder[i](Tensor.concat([skips[i], up[i](h)], axis: 1))
            stages.append(h)
        }
        return (stages, head(h))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { features(x).logits }
}
