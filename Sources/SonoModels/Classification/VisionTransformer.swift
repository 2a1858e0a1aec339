import SonoBase
import SonoNN
import SonoTensor
/// Vision Transformer (Dosovitskiy et al. 2021) in torchvision's layout and names: `conv_proj` (patch
/// embedding as a strided conv), `class_token`, `encoder.pos_embedding`, pre-norm blocks
/// `encoder.layers.encoder_layer_i.{ln_1, self_attention, ln_2, mlp.0, mlp.3}`, `encoder.ln`, `heads.head`.
///
/// Input [N, inputChannels, imageSize, imageSize] → logits [N, classes]. The defaults (64 px, 8 px patches,
/// width 128, 4 blocks of 4 heads) train on a CPU; ViT-B/16 is imageSize 224, patchSize 16, dim 768, depth 12,
/// heads 12, mlpDim 3072.
public struct ViTConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public var inputChannels = 1
    public var classes = 3
    public var imageSize = 64
    public var patchSize = 8
    public var dim = 128
    public var depth = 4
    public var heads = 4
    public var mlpDim = 256
    public var dropout: Float = 0.1
    public init() {}

    public var patches: Int { (imageSize / patchSize) * (imageSize / patchSize) }

    enum CodingKeys: String, CodingKey { case inputChannels, classes, imageSize, patchSize, dim, depth, heads, mlpDim, dropout }
}

/// Sub-modules under given names (for torchvision's `encoder.layers.encoder_layer_0`, `heads.head`).
public final class NamedModules: Module {
    public let children: [(String, Module)]
    public var isTraining = true
    public init(_ children: [(String, Module)]) { self.children = children }
}

/// x + attention(LN(x)), then x + MLP(LN(x)): [B, T, D] → [B, T, D].
public final class EncoderBlock: Layer {
    public let ln1: LayerNorm, attention: MultiHeadSelfAttention, ln2: LayerNorm
    public let mlp: Sequential
    public let dropout: Dropout
    public var isTraining = true

    public init(dim: Int, heads: Int, mlpDim: Int, dropout p: Float, rng: inout RandomGenerator) {
        ln1 = LayerNorm([dim], eps: 1e-6)
        attention = MultiHeadSelfAttention(dim: dim, heads: heads, rng: &rng)
        ln2 = LayerNorm([dim], eps: 1e-6)
        mlp = Sequential([Linear(inputFeatures: dim, outputFeatures: mlpDim, rng: &rng), Lambda { $0.gelu() }, Dropout(p, rng: &rng),
                          Linear(inputFeatures: mlpDim, outputFeatures: dim, rng: &rng), Dropout(p, rng: &rng)])
        dropout = Dropout(p, rng: &rng)
    }

    public var children: [(String, Module)] {
        [("ln_1", ln1), ("self_attention", attention), ("dropout", dropout), ("ln_2", ln2), ("mlp", mlp)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + dropout(attention(ln1(x)))
        return h + mlp(ln2(h))
    }
}

/// Position embedding, the blocks and the final LayerNorm (torchvision's `encoder`).
public final class ViTEncoder: Layer {
    public let posEmbedding: Tensor
    public let layers: [EncoderBlock]
    public let ln: LayerNorm
    public let dropout: Dropout
    public var isTraining = true

    init(_ c: ViTConfig, rng: inout RandomGenerator) {
        posEmbedding = Tensor.normal([1, c.patches + 1, c.dim], std: 0.02, rng: &rng, requiresGrad: true)
        layers = (0..<c.depth).map { _ in EncoderBlock(dim: c.dim, heads: c.heads, mlpDim: c.mlpDim, dropout: c.dropout, rng: &rng) }
        ln = LayerNorm([c.dim], eps: 1e-6)
        dropout = Dropout(c.dropout, rng: &rng)
    }

    public var ownParameters: [(String, Tensor)] { [("pos_embedding", posEmbedding)] }
    public var children: [(String, Module)] {
        [("dropout", dropout), ("layers", NamedModules(layers.enumerated().map { ("encoder_layer_\($0.offset)", $0.element as Module) })), ("ln", ln)]
    }

    /// tokens [B, T, D] → [B, T, D].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        ln(layers.reduce(dropout(x + posEmbedding)) { $1($0) })
    }
}

public final class VisionTransformer: Layer {
    public let config: ViTConfig
    public let convProj: Conv2D
    public let classToken: Tensor
    public let encoder: ViTEncoder
    public let head: Linear
    public var isTraining = true

    public init(_ config: ViTConfig, rng: inout RandomGenerator) {
        precondition(config.imageSize % config.patchSize == 0, "ViT: image size \(config.imageSize) is not a multiple of patch size \(config.patchSize)")
        precondition(config.dim % config.heads == 0, "ViT: dim \(config.dim) does not split into \(config.heads) heads")
        self.config = config
        convProj = Conv2D(inputChannels: config.inputChannels, outputChannels: config.dim, kernelSize: config.patchSize,
                          stride: config.patchSize, rng: &rng)
        classToken = Tensor.zeros([1, 1, config.dim], requiresGrad: true)
        encoder = ViTEncoder(config, rng: &rng)
        head = Linear(inputFeatures: config.dim, outputFeatures: config.classes, rng: &rng)
    }

    public var ownParameters: [(String, Tensor)] { [("class_token", classToken)] }
    public var children: [(String, Module)] {
        [("conv_proj", convProj), ("encoder", encoder), ("heads", NamedModules([("head", head)]))]
    }

    /// x [N, C, S, S] → patch tokens with the class token first: [N, 1 + patches, dim].
    public func tokens(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == config.inputChannels && x.shape[2] == config.imageSize && x.shape[3] == config.imageSize,
                     "ViT: input \(x.shape) must be [N, \(config.inputChannels), \(config.imageSize), \(config.imageSize)]")
        let n = x.shape[0]
        let patches = convProj(x).reshaped([n, config.dim, config.patches]).permuted([0, 2, 1])
        return Tensor.concat([classToken.broadcast(to: [n, 1, config.dim]), patches], axis: 1)
    }

    /// x [N, C, S, S] → encoded tokens [N, 1 + patches, dim].
    public func encode(_ x: Tensor) -> Tensor { encoder(tokens(x)) }

    /// x [N, C, S, S] → logits [N, classes] from the class token.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let z = encode(x)
        return head(z.slice(axis: 1, 0..<1).reshaped([x.shape[0], config.dim]))
    }
}
