import SonoBase
import SonoNN
import SonoTensor
/// Class labels of the images in a batch, as indices into the network's code tables (nil where the network has
/// no such table).
public struct ClassIndices: Equatable, Sendable {
    public var birads: [Int]?
    public var pathology: [Int]?
    public init(birads: [Int]? = nil, pathology: [Int]? = nil) { (self.birads, self.pathology) = (birads, pathology) }
}

/// The implicit segmentation network (NISF; Byra's conditioned variant): coordinates + conditioning codes →
/// residual MLP → (intensity logit, mask logit).
///
/// Conditioning = [per-image latent ‖ BI-RADS code ‖ pathology code], concatenated with the (encoded)
/// coordinates at the input: the cheapest combination, and the first layer is free to mix them. The
/// concatenation is computed as a split product, W·[x ‖ c] = W_x·x + W_c·c, with W_c·c evaluated once per
/// image [B, width] and broadcast to the image's points: same function and weights as the concatenated
/// layer, without B·P copies of the code.
///
/// Batched layout: B images × P points each are stacked as one [B·P, …] matrix (image-major), so each layer is
/// one large matmul.
public final class ImplicitNetwork: Module {
    public let config: ImplicitNetworkConfig
    public let first: Linear
    public let hidden: [Linear]
    public let intensity: Linear, mask: Linear
    public let birads: ClassCodeTable?, pathology: ClassCodeTable?
    public let fourier: FourierFeatures?
    public var isTraining = true

    public init(_ config: ImplicitNetworkConfig, rng: inout RandomGenerator) {
        precondition(config.problems.isEmpty, "ImplicitNetwork: \(config.problems.joined(separator: "; "))")
        self.config = config
        let w = config.width
        fourier = config.activation == .relu ? FourierFeatures(features: config.fourierFeatures, scale: config.fourierScale, rng: &rng) : nil
        first = Linear(inputFeatures: config.coordinateFeatures + config.conditioningDims, outputFeatures: w, rng: &rng)
        hidden = (1..<max(config.depth, 1)).map { _ in Linear(inputFeatures: w, outputFeatures: w, rng: &rng) }
        intensity = Linear(inputFeatures: w, outputFeatures: 1, rng: &rng)
        mask = Linear(inputFeatures: w, outputFeatures: 1, rng: &rng)
        birads = config.biradsClasses.isEmpty ? nil : ClassCodeTable(names: config.biradsClasses, dims: config.classCodeDims, rng: &rng)
        pathology = config.pathologyClasses.isEmpty ? nil : ClassCodeTable(names: config.pathologyClasses, dims: config.classCodeDims, rng: &rng)
        if config.activation == .sine { sirenInit(rng: &rng) }
    }

    public var children: [(String, Module)] {
        var c: [(String, Module)] = [("first", first)]
        c += hidden.enumerated().map { ("hidden.\($0.offset)", $0.element as Module) }
        c += [("intensity", intensity), ("mask", mask)]
        if let birads { c.append(("birads", birads)) }
        if let pathology { c.append(("pathology", pathology)) }
        if let fourier { c.append(("fourier", fourier)) }
        return c
    }

    /// Trunk weight matrices (biases, heads and class codes excluded): what the L2 weight penalty covers.
    public var trunkWeights: [Tensor] { [first.weight] + hidden.map(\.weight) }

    /// SIREN's init: first layer U(-1/in, 1/in), later layers U(-√(6/in)/ω0, √(6/in)/ω0).
    private func sirenInit(rng: inout RandomGenerator) {
        let w0 = config.effectiveOmega
        for (i, layer) in ([first] + hidden).enumerated() {
            let fanIn = Float(layer.weight.shape[1])
            let bound = i == 0 ? 1 / fanIn : (6 / fanIn).squareRoot() / w0
            let values = (0..<layer.weight.count).map { _ in (rng.uniform() * 2 - 1) * bound }
            layer.weight.assign(Tensor(values, shape: layer.weight.shape))
        }
    }

    /// latents [B, latentDims] + class codes of `classes` → conditioning [B, conditioningDims].
    /// A table the network has needs indices for all B images.
    public func conditioning(latents: Tensor, classes: ClassIndices = ClassIndices()) -> Tensor {
        precondition(latents.rank == 2 && latents.shape[1] == config.latentDims,
                     "ImplicitNetwork: latents \(latents.shape) should be [B, \(config.latentDims)]")
        let b = latents.shape[0]
        var parts = [latents]
        if let birads {
            guard let i = classes.birads, i.count == b else { preconditionFailure("ImplicitNetwork: needs \(b) BI-RADS indices, got \(classes.birads?.count ?? 0)") }
            parts.append(birads(i))
        }
        if let pathology {
            guard let i = classes.pathology, i.count == b else { preconditionFailure("ImplicitNetwork: needs \(b) pathology indices, got \(classes.pathology?.count ?? 0)") }
            parts.append(pathology(i))
        }
        return parts.count == 1 ? latents : Tensor.concat(parts, axis: 1)
    }

    private func activate(_ x: Tensor) -> Tensor {
        switch config.activation {
        case .gabor: return x.gabor(omega: config.effectiveOmega, scale: config.scale)
        case .sine: return (x * config.effectiveOmega).sin()
        case .relu: return x.relu()
        }
    }

    /// coords [B·P, 2] (image-major: image b owns rows b·P..<(b+1)·P), conditioning [B, conditioningDims]
    /// → (intensity logits [B·P, 1], mask logits [B·P, 1]).
    public func callAsFunction(_ coords: Tensor, conditioning: Tensor) -> (intensity: Tensor, mask: Tensor) {
        let b = conditioning.shape[0], n = coords.shape[0], w = config.width
        precondition(coords.rank == 2 && coords.shape[1] == 2, "ImplicitNetwork: coords \(coords.shape) should be [B·P, 2]")
        precondition(conditioning.rank == 2 && conditioning.shape[1] == config.conditioningDims,
                     "ImplicitNetwork: conditioning \(conditioning.shape) should be [B, \(config.conditioningDims)]")
        precondition(b > 0 && n % b == 0, "ImplicitNetwork: \(n) points do not split evenly over \(b) images")
        let p = n / b, f = config.coordinateFeatures
        let x = fourier.map { $0(coords) } ?? coords
        let wx = first.weight.slice(axis: 1, 0..<f), wc = first.weight.slice(axis: 1, f..<(f + config.conditioningDims))
        let perImage = conditioning.linear(wc)                                    // [B, W]
        var pre = x.linear(wx, bias: first.bias).reshaped([b, p, w]) + perImage.reshaped([b, 1, w])
        pre = pre.reshaped([n, w])
        var h = activate(pre)
        if config.latentResidual && config.latentDims == w {
            let z = conditioning.slice(axis: 1, 0..<w)
            h = (h.reshaped([b, p, w]) + z.reshaped([b, 1, w])).reshaped([n, w])
        }
        for layer in hidden { h = h + activate(layer(h)) }
        return (intensity(h), mask(h))
    }
}
