import SonoBase
import SonoNN
import SonoTensor

/// U-Net (Ronneberger et al. 2015) with the choices the Duffy and Li papers ablate.
/// Input [N, inputChannels, H, W] with H and W divisible by 2^depth → logits [N, classes, H, W].
public struct UNetConfig: Codable, Hashable, Sendable, DefaultDecodable {
    /// How the decoder doubles resolution: a learned 2x2 transposed convolution, or fixed upsampling followed
    /// by a 3x3 convolution (Keras' Conv2DTranspose vs UpSampling2D in Duffy et al.).
    public enum Upsampling: String, Codable, Sendable, CaseIterable { case transposed, nearest, bilinear }
    public enum Normalization: String, Codable, Sendable, CaseIterable { case batch, instance, group, none }

    public var inputChannels = 1
    public var classes = 1
    public var baseChannels = 32
    public var depth = 4
    public var upsampling = Upsampling.transposed
    public var normalization = Normalization.batch
    /// Groups for `.group` normalisation.
    public var groups = 8
    /// Dropout probability after the bottleneck block (0 = none).
    public var dropout: Float = 0
    /// Attention gates on the skip connections (Oktay et al. 2018, Attention U-Net).
    public var attentionGates = false
    public init() {}

    enum CodingKeys: String, CodingKey {
        case inputChannels, classes, baseChannels, depth, upsampling, normalization, groups, dropout, attentionGates
    }
}

/// conv3x3 → norm → ReLU, twice. Batch norm and its ReLU run as one fused oneDNN pass; at inference, after
/// `fuseForInference()`, batch norm is folded into the convolutions and the ReLU runs inside them.
public final class DoubleConv: Layer, InferenceFusable {
    public let conv1: Conv2D, conv2: Conv2D
    public let norm1: Layer?, norm2: Layer?
    public var isTraining = true { didSet { if isTraining { fused = nil } } }
    private var fused: (FoldedConvolution, FoldedConvolution)?

    public init(_ cin: Int, _ cout: Int, normalization: UNetConfig.Normalization, groups: Int = 8, rng: inout RandomGenerator) {
        let useBias = normalization == .none
        conv1 = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, padding: 1, bias: useBias, rng: &rng)
        conv2 = Conv2D(inputChannels: cout, outputChannels: cout, kernelSize: 3, padding: 1, bias: useBias, rng: &rng)
        func norm() -> Layer? {
            switch normalization {
            case .batch: return BatchNorm(channels: cout)
            case .instance: return GroupNorm(groups: cout, channels: cout)
            case .group: return GroupNorm(groups: min(groups, cout), channels: cout)
            case .none: return nil
            }
        }
        norm1 = norm()
        norm2 = norm()
    }

    public var children: [(String, Module)] {
        [("conv1", conv1), ("conv2", conv2)] + (norm1.map { [("norm1", $0 as Module), ("norm2", norm2! as Module)] } ?? [])
    }

    static func normReLU(_ norm: Layer?, _ h: Tensor) -> Tensor {
        if let bn = norm as? BatchNorm { return bn.forward(h, relu: true) }
        return (norm.map { $0(h) } ?? h).relu()
    }

    public func prepareFusedInference() {
        guard !isTraining, let bn1 = norm1 as? BatchNorm, let bn2 = norm2 as? BatchNorm else { return }
        fused = (FoldedConvolution(conv1, bn1), FoldedConvolution(conv2, bn2))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let (f1, f2) = fused, !isTraining {
            let h = x.conv2d(f1.weight, bias: f1.bias, padding: conv1.padding, relu: true)
            return h.conv2d(f2.weight, bias: f2.bias, padding: conv2.padding, relu: true)
        }
        let h = DoubleConv.normReLU(norm1, conv1(x))
        return DoubleConv.normReLU(norm2, conv2(h))
    }
}

/// Attention gate (Oktay et al., "Attention U-Net", MIDL 2018): weighs a skip connection x [N, C, H, W] by
/// α = σ(ψ(ReLU(W_x x + W_g g))) [N, 1, H, W], where g is the decoder's upsampled feature at the same size.
public final class AttentionGate: Layer {
    public let wx: Conv2D, wg: Conv2D, psi: Conv2D
    public var isTraining = true
    var gating: Tensor?

    public init(channels: Int, rng: inout RandomGenerator) {
        let inner = max(channels / 2, 1)
        wx = Conv2D(inputChannels: channels, outputChannels: inner, kernelSize: 1, bias: false, rng: &rng)
        wg = Conv2D(inputChannels: channels, outputChannels: inner, kernelSize: 1, rng: &rng)
        psi = Conv2D(inputChannels: inner, outputChannels: 1, kernelSize: 1, rng: &rng)
    }

    public var children: [(String, Module)] { [("wx", wx), ("wg", wg), ("psi", psi)] }

    /// The skip connection weighted by its attention map.
    public func gate(_ x: Tensor, _ g: Tensor) -> Tensor {
        let alpha = psi((wx(x) + wg(g)).relu()).sigmoid()
        return x * alpha.plain()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x }
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
    public let gates: [AttentionGate]
    public let dropout: Dropout?
    public let head: Conv2D
    public var isTraining = true

    public init(_ config: UNetConfig, rng: inout RandomGenerator) {
        precondition(config.depth >= 1 && config.baseChannels >= 1, "UNet: depth and base channels must be positive")
        self.config = config
        let w = (0...config.depth).map { config.baseChannels << $0 }
        encoder = (0...config.depth).map { i in
            DoubleConv(i == 0 ? config.inputChannels : w[i - 1], w[i], normalization: config.normalization, groups: config.groups, rng: &rng)
        }
        up = (0..<config.depth).map { i in UpStep(w[i + 1], w[i], mode: config.upsampling, rng: &rng) }
        decoder = (0..<config.depth).map { i in DoubleConv(2 * w[i], w[i], normalization: config.normalization, groups: config.groups, rng: &rng) }
        gates = config.attentionGates ? (0..<config.depth).map { i in AttentionGate(channels: w[i], rng: &rng) } : []
        dropout = config.dropout > 0 ? Dropout(config.dropout, rng: &rng) : nil
        head = Conv2D(inputChannels: config.baseChannels, outputChannels: config.classes, kernelSize: 1, rng: &rng)
    }

    public var children: [(String, Module)] {
        encoder.enumerated().map { ("enc.\($0.offset)", $0.element as Module) } +
            up.enumerated().map { ("up.\($0.offset)", $0.element as Module) } +
            decoder.enumerated().map { ("dec.\($0.offset)", $0.element as Module) } +
            gates.enumerated().map { ("gate.\($0.offset)", $0.element as Module) } + [("head", head)] +
            (dropout.map { [("dropout", $0 as Module)] } ?? [])
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
            if i == config.depth, let dropout { h = dropout(h) }
            if i < config.depth {
                skips.append(h)
                h = h.maxPool2d(kernel: (2, 2))
            }
        }
        var stages: [Tensor] = []
        for i in stride(from: config.depth - 1, through: 0, by: -1) {
            let u = up[i](h)
            let skip = gates.isEmpty ? skips[i] : gates[i].gate(skips[i], u)
            h = decoder[i](Tensor.concat([skip, u], axis: 1))
            stages.append(h)
        }
        return (stages, head(h))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { features(x).logits }
}

extension UNetConfig {
    /// Values no U-Net can be built from, each naming the key, the value and the allowed range (empty when fine).
    /// Checked for recipes and for model headers alike, so a bad value is an error, not a crash in a kernel.
    public var problems: [String] {
        var out: [String] = []
        func need(_ ok: Bool, _ key: String, _ value: Any, _ range: String) { if !ok { out.append("model.\(key) is \(value); allowed: \(range)") } }
        need((1...16).contains(inputChannels), "inputChannels", inputChannels, "1-16")
        need((1...64).contains(classes), "classes", classes, "1-64")
        need((1...512).contains(baseChannels), "baseChannels", baseChannels, "1-512")
        need((1...7).contains(depth), "depth", depth, "1-7")
        need((0...0.95).contains(dropout), "dropout", dropout, "0-0.95")
        if normalization == .group {
            need(groups >= 1 && baseChannels % groups == 0, "groups", groups, "≥ 1 and dividing baseChannels (\(baseChannels))")
        }
        return out
    }
}
