import Foundation
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
    /// Amortised inference: image → code (nil for the papers' auto-decoder).
    public let encoder: ImplicitEncoder?
    /// code (pooled over a local grid) → pathology logits (nil without `codeHeadClasses`).
    public let codeHead: Linear?
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
        // drawn after every other weight, so networks without them keep their initial values
        encoder = config.encoder.map { ImplicitEncoder($0, latentDims: config.latentDims, grid: config.latentGrid, rng: &rng) }
        codeHead = config.codeHeadClasses.isEmpty ? nil : Linear(inputFeatures: config.latentDims, outputFeatures: config.codeHeadClasses.count, rng: &rng)
        if config.activation == .sine { sirenInit(rng: &rng) }
    }

    public var children: [(String, Module)] {
        var c: [(String, Module)] = [("first", first)]
        c += hidden.enumerated().map { ("hidden.\($0.offset)", $0.element as Module) }
        c += [("intensity", intensity), ("mask", mask)]
        if let birads { c.append(("birads", birads)) }
        if let pathology { c.append(("pathology", pathology)) }
        if let fourier { c.append(("fourier", fourier)) }
        if let encoder { c.append(("encoder", encoder)) }
        if let codeHead { c.append(("codeHead", codeHead)) }
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

    /// Class codes of `classes` for `b` images [B, 2·classCodeDims or fewer] (nil when the network has no tables).
    /// A table the network has needs indices for all B images.
    func classCodes(_ classes: ClassIndices, images b: Int) -> Tensor? {
        var parts: [Tensor] = []
        if let birads {
            guard let i = classes.birads, i.count == b else { preconditionFailure("ImplicitNetwork: needs \(b) BI-RADS indices, got \(classes.birads?.count ?? 0)") }
            parts.append(birads(i))
        }
        if let pathology {
            guard let i = classes.pathology, i.count == b else { preconditionFailure("ImplicitNetwork: needs \(b) pathology indices, got \(classes.pathology?.count ?? 0)") }
            parts.append(pathology(i))
        }
        return parts.isEmpty ? nil : parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 1)
    }

    /// Global latents [B, latentDims] + class codes of `classes` → conditioning [B, conditioningDims].
    public func conditioning(latents: Tensor, classes: ClassIndices = ClassIndices()) -> Tensor {
        precondition(latents.rank == 2 && latents.shape[1] == config.latentDims,
                     "ImplicitNetwork: latents \(latents.shape) should be [B, \(config.latentDims)]")
        guard let codes = classCodes(classes, images: latents.shape[0]) else { return latents }
        return Tensor.concat([latents, codes], axis: 1)
    }

    /// codes [B, latentSize] → one code per image [B, latentDims] (the mean of a local grid): what the code
    /// head reads.
    public func pooledCode(_ latents: Tensor) -> Tensor {
        guard config.latentGrid > 0 else { return latents }
        let b = latents.shape[0], g = config.latentGrid
        return latents.reshaped([b, config.latentDims, g * g]).mean(axes: [2])
    }

    /// codes [B, latentSize] → pathology logits [B, codeHeadClasses.count].
    public func classifyCode(_ latents: Tensor) -> Tensor {
        guard let codeHead else { preconditionFailure("ImplicitNetwork: no code head (model.codeHeadClasses is empty)") }
        return codeHead(pooledCode(latents))
    }

    /// The encoder's codes for images [B, 1, H, W] → [B, latentSize].
    public func encode(_ images: Tensor) -> Tensor {
        guard let encoder else { preconditionFailure("ImplicitNetwork: no encoder (model.encoder is not set)") }
        return encoder(images)
    }

    /// The coordinate input [N, coordinateFeatures]: random Fourier features (relu), the multi-resolution
    /// encoding, or the coordinates themselves. Coordinates are data, so the encoding is not recorded.
    func encodeCoordinates(_ coords: Tensor) -> Tensor {
        if let fourier { return fourier(coords) }
        let l = config.positionalFrequencies
        guard l > 0 else { return coords }
        let xy = coords.scalars, n = coords.shape[0], f = config.coordinateFeatures
        var out = [Float](repeating: 0, count: n * f)
        for i in 0..<n {
            let (x, y) = (xy[2 * i], xy[2 * i + 1])
            out[i * f] = x; out[i * f + 1] = y
            var scale = Float.pi
            for k in 0..<l {
                let o = i * f + 2 + 4 * k
                (out[o], out[o + 1], out[o + 2], out[o + 3]) = (sin(scale * x), cos(scale * x), sin(scale * y), cos(scale * y))
                scale *= 2
            }
        }
        return Tensor(out, shape: [n, f])
    }

    private func activate(_ x: Tensor) -> Tensor {
        switch config.activation {
        case .gabor: return x.gabor(omega: config.effectiveOmega, scale: config.scale)
        case .sine: return (x * config.effectiveOmega).sin()
        case .relu: return x.relu()
        }
    }

    /// coords [B·P, 2] (image-major: image b owns rows b·P..<(b+1)·P), codes [B, latentSize] and the images'
    /// class indices → (intensity logits [B·P, 1], mask logits [B·P, 1]). A grid of local codes is sampled
    /// bilinearly at each coordinate.
    public func callAsFunction(_ coords: Tensor, latents: Tensor, classes: ClassIndices = ClassIndices()) -> (intensity: Tensor, mask: Tensor) {
        precondition(latents.rank == 2 && latents.shape[1] == config.latentSize,
                     "ImplicitNetwork: latents \(latents.shape) should be [B, \(config.latentSize)]")
        guard config.latentGrid > 0 else { return self(coords, conditioning: conditioning(latents: latents, classes: classes)) }
        let b = latents.shape[0], n = coords.shape[0], w = config.width, d = config.latentDims, g = config.latentGrid
        precondition(coords.rank == 2 && coords.shape[1] == 2, "ImplicitNetwork: coords \(coords.shape) should be [B·P, 2]")
        precondition(n % b == 0, "ImplicitNetwork: \(n) points do not split evenly over \(b) images")
        let p = n / b, f = config.coordinateFeatures
        let local = latents.reshaped([b, d, g, g]).sampledBilinear(at: coords)           // [B·P, D]
        let wx = first.weight.slice(axis: 1, 0..<f), wl = first.weight.slice(axis: 1, f..<(f + d))
        var pre = encodeCoordinates(coords).linear(wx, bias: first.bias) + local.linear(wl)
        if let codes = classCodes(classes, images: b) {
            let wc = first.weight.slice(axis: 1, (f + d)..<(f + config.conditioningDims))
            pre = (pre.reshaped([b, p, w]) + codes.linear(wc).reshaped([b, 1, w])).reshaped([n, w])
        }
        var h = activate(pre)
        if config.latentResidual && d == w { h = h + local }
        return trunk(h)
    }

    /// coords [B·P, 2] (image-major: image b owns rows b·P..<(b+1)·P), conditioning [B, conditioningDims] of
    /// global codes → (intensity logits [B·P, 1], mask logits [B·P, 1]).
    public func callAsFunction(_ coords: Tensor, conditioning: Tensor) -> (intensity: Tensor, mask: Tensor) {
        let b = conditioning.shape[0], n = coords.shape[0], w = config.width
        precondition(config.latentGrid == 0, "ImplicitNetwork: a network with local codes takes latents, not a conditioning vector")
        precondition(coords.rank == 2 && coords.shape[1] == 2, "ImplicitNetwork: coords \(coords.shape) should be [B·P, 2]")
        precondition(conditioning.rank == 2 && conditioning.shape[1] == config.conditioningDims,
                     "ImplicitNetwork: conditioning \(conditioning.shape) should be [B, \(config.conditioningDims)]")
        precondition(b > 0 && n % b == 0, "ImplicitNetwork: \(n) points do not split evenly over \(b) images")
        let p = n / b, f = config.coordinateFeatures
        let x = encodeCoordinates(coords)
        let wx = first.weight.slice(axis: 1, 0..<f), wc = first.weight.slice(axis: 1, f..<(f + config.conditioningDims))
        let perImage = conditioning.linear(wc)                                    // [B, W]
        var pre = x.linear(wx, bias: first.bias).reshaped([b, p, w]) + perImage.reshaped([b, 1, w])
        pre = pre.reshaped([n, w])
        var h = activate(pre)
        if config.latentResidual && config.latentDims == w {
            let z = conditioning.slice(axis: 1, 0..<w)
            h = (h.reshaped([b, p, w]) + z.reshaped([b, 1, w])).reshaped([n, w])
        }
        return trunk(h)
    }

    /// Residual hidden layers and the two heads.
    private func trunk(_ input: Tensor) -> (intensity: Tensor, mask: Tensor) {
        var h = input
        for layer in hidden { h = h + activate(layer(h)) }
        return (intensity(h), mask(h))
    }
}
