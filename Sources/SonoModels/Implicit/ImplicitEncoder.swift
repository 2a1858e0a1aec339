import SonoBase
import SonoNN
import SonoTensor

/// The amortised-inference encoder of an implicit network: a small CNN that maps an image to its code in one
/// pass, so a new image's latent starts where the training images' codes live instead of at zero.
public struct ImplicitEncoderConfig: Codable, Hashable, Sendable, DefaultDecodable {
    /// Channels of each stage; every stage halves the resolution (two 3x3 conv + BN + ReLU, the first strided).
    public var widths = [32, 64, 128, 256]
    /// Local codes: how many of the deepest stages feed the code grid (each through a 1x1 projection, resized to
    /// the grid and summed, so fine cells also see the deepest stage's context). Global codes pool the last stage.
    public var levels = 2

    public init() {}

    enum CodingKeys: String, CodingKey { case widths, levels }

    var problems: [String] {
        var out: [String] = []
        if widths.isEmpty || widths.count > 6 { out.append("model.encoder.widths needs 1-6 stages, got \(widths.count)") }
        if let w = widths.first(where: { $0 < 1 || $0 > 1024 }) { out.append("model.encoder.widths: \(w) is outside 1-1024") }
        if levels < 1 || levels > widths.count { out.append("model.encoder.levels must be 1-\(widths.count), got \(levels)") }
        return out
    }
}

/// image [B, 1, H, W] → codes [B, latentSize]: a global code [B, latentDims] (average-pooled last stage, then a
/// linear map), or a grid of local codes [B, latentDims, g, g] flattened channel-major, the layout
/// `ImplicitNetwork` reads.
public final class ImplicitEncoder: Module {
    public let config: ImplicitEncoderConfig
    public let stages: [EncoderStage]
    /// Local codes: one 1x1 projection per level, deepest last. Global: one linear map.
    public let projections: [Conv2D]
    public let pooled: Linear?
    public let latentDims: Int, grid: Int
    public var isTraining = true

    public init(_ config: ImplicitEncoderConfig, latentDims: Int, grid: Int, rng: inout RandomGenerator) {
        (self.config, self.latentDims, self.grid) = (config, latentDims, grid)
        var cin = 1
        stages = config.widths.map { width in
            defer { cin = width }
            return EncoderStage(cin, width, rng: &rng)
        }
        if grid > 0 {
            projections = config.widths.suffix(config.levels).map {
                Conv2D(inputChannels: $0, outputChannels: latentDims, kernelSize: 1, rng: &rng)
            }
            pooled = nil
        } else {
            projections = []
            pooled = Linear(inputFeatures: config.widths.last!, outputFeatures: latentDims, rng: &rng)
        }
    }

    public var children: [(String, Module)] {
        stages.enumerated().map { ("stage.\($0.offset)", $0.element as Module) }
            + projections.enumerated().map { ("project.\($0.offset)", $0.element as Module) }
            + (pooled.map { [("pooled", $0 as Module)] } ?? [])
    }

    /// images [B, 1, H, W] → [B, latentSize].
    public func callAsFunction(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 1, "ImplicitEncoder: images \(images.shape) should be [B, 1, H, W]")
        let b = images.shape[0]
        var maps: [Tensor] = []
        var x = images
        for stage in stages { x = stage(x); maps.append(x) }
        guard grid > 0 else { return pooled!(x.globalAvgPool()) }
        let levels = Array(maps.suffix(config.levels))
        var codes: Tensor?
        for (map, projection) in zip(levels, projections) {
            let c = projection(map).resized(to: (grid, grid), mode: .bilinear)
            codes = codes.map { $0 + c } ?? c
        }
        return codes!.plain().reshaped([b, latentDims * grid * grid])
    }
}

/// Two 3x3 convolutions with batch norm and ReLU, the first with stride 2: [B, cin, H, W] → [B, cout, H/2, W/2].
public final class EncoderStage: Layer {
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
    public var isTraining = true

    public init(_ cin: Int, _ cout: Int, rng: inout RandomGenerator) {
        conv1 = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, stride: 2, padding: 1, bias: false, rng: &rng)
        conv2 = Conv2D(inputChannels: cout, outputChannels: cout, kernelSize: 3, padding: 1, bias: false, rng: &rng)
        (bn1, bn2) = (BatchNorm(channels: cout), BatchNorm(channels: cout))
    }

    public var children: [(String, Module)] { [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        bn2.forward(conv2(bn1.forward(conv1(x), relu: true)), relu: true)
    }
}
