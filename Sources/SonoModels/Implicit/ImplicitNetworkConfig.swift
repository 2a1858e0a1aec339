import SonoBase
/// The activation of the implicit network's trunk.
public enum ImplicitActivation: String, Codable, Sendable, CaseIterable {
    /// WIRE's real Gabor wavelet cos(ω0 x)·exp(-(s0 x)²) on one pre-activation (WIRE's real form; NISF's code
    /// uses two linear maps, one per factor, which doubles the trunk cost for little gain), PyTorch's default
    /// Linear init. NISF's default.
    case gabor
    /// SIREN: sin(ω0 x), with SIREN's init (first layer U(-1/in, 1/in), others U(-√(6/in)/ω0, √(6/in)/ω0)).
    case sine
    /// ReLU on random Fourier features of the coordinates (Tancik et al. 2020): [sin 2πBx, cos 2πBx],
    /// B ~ N(0, fourierScale²) fixed at initialisation (a buffer, saved with the weights).
    case relu
}

/// Architecture of `ImplicitNetwork`.
///
/// Coordinates are in [-1, 1] (pixel centres of the letterboxed training square, see `CoordinateGrid`), not
/// NISF's index / size in [0, 1): a frame centred on 0 is what SIREN's init and Fourier features assume, and
/// reading outside the plane is simply |c| > 1.
public struct ImplicitNetworkConfig: Codable, Hashable, Sendable, DefaultDecodable {
    /// Size of the per-image code.
    public var latentDims = 128
    public var width = 128
    /// Trunk layers, the first (input) layer included.
    public var depth = 8
    public var activation = ImplicitActivation.gabor
    /// ω0: 10 for Gabor (NISF/WIRE default), 30 for sine (SIREN); nil picks that default.
    public var omega: Float?
    /// Gabor envelope s0 (NISF/WIRE default 10).
    public var scale: Float = 10
    /// ReLU only: number of Fourier frequencies and their standard deviation.
    public var fourierFeatures = 64
    public var fourierScale: Float = 4
    /// NISF's residual start: `previous = latent`, so the first layer's output gets the latent added (only when
    /// latentDims == width).
    public var latentResidual = true
    /// Class names of the BI-RADS code table (empty: no BI-RADS conditioning), e.g. ["2", "3", "4", "5"].
    public var biradsClasses: [String] = []
    /// Class names of the pathology code table (empty: none), e.g. ["benign", "malignant"].
    public var pathologyClasses: [String] = []
    /// Size of each class code.
    public var classCodeDims = 16
    /// Local latents: each image's code is a g×g grid of `latentDims` codes, bilinearly interpolated at each
    /// coordinate (local implicit functions); 0 keeps the papers' single global code.
    public var latentGrid = 0
    /// Multi-resolution coordinate encoding: [x, y, sin(2^k πx), cos(2^k πx), sin(2^k πy), cos(2^k πy)] for
    /// k < this; 0 feeds the raw coordinates (the papers' Gabor input). Not used with `relu`, which has its own
    /// random Fourier features.
    public var positionalFrequencies = 0
    /// Amortised inference: a CNN that predicts the code from the image (nil: the papers' auto-decoder, codes
    /// start at zero and only optimisation finds them).
    public var encoder: ImplicitEncoderConfig?
    /// Pathology classes predicted from the image's code by a linear head (the code must carry the label;
    /// empty: no head), e.g. ["benign", "malignant"].
    public var codeHeadClasses: [String] = []

    public init() {}

    /// Values in one image's code: latentDims, times g² for a grid of local codes.
    public var latentSize: Int { latentDims * max(latentGrid, 1) * max(latentGrid, 1) }

    /// ω0 in use.
    public var effectiveOmega: Float { omega ?? (activation == .sine ? 30 : 10) }
    /// Whether the network takes class codes at all.
    public var isConditioned: Bool { !biradsClasses.isEmpty || !pathologyClasses.isEmpty }
    /// Width of [latent ‖ BI-RADS code ‖ pathology code].
    public var conditioningDims: Int {
        latentDims + (biradsClasses.isEmpty ? 0 : classCodeDims) + (pathologyClasses.isEmpty ? 0 : classCodeDims)
    }
    /// Width of the encoded coordinates.
    public var coordinateFeatures: Int { activation == .relu ? 2 * fourierFeatures : 2 + 4 * positionalFrequencies }

    enum CodingKeys: String, CodingKey {
        case latentDims, width, depth, activation, omega, scale, fourierFeatures, fourierScale, latentResidual
        case biradsClasses, pathologyClasses, classCodeDims, latentGrid, positionalFrequencies, encoder, codeHeadClasses
    }

    /// Problems a user can cause in a recipe, in words naming the setting (empty when fine).
    public var problems: [String] {
        var out: [String] = []
        if latentDims < 1 { out.append("model.latentDims must be ≥ 1, got \(latentDims)") }
        if width < 1 { out.append("model.width must be ≥ 1, got \(width)") }
        if depth < 1 { out.append("model.depth must be ≥ 1, got \(depth)") }
        if activation == .relu && fourierFeatures < 1 { out.append("model.fourierFeatures must be ≥ 1 for relu") }
        if isConditioned && classCodeDims < 1 { out.append("model.classCodeDims must be ≥ 1, got \(classCodeDims)") }
        if Set(biradsClasses).count != biradsClasses.count { out.append("model.biradsClasses has duplicates") }
        if Set(pathologyClasses).count != pathologyClasses.count { out.append("model.pathologyClasses has duplicates") }
        if Set(codeHeadClasses).count != codeHeadClasses.count { out.append("model.codeHeadClasses has duplicates") }
        if codeHeadClasses.count == 1 { out.append("model.codeHeadClasses needs at least 2 classes") }
        if latentGrid < 0 || latentGrid > 64 { out.append("model.latentGrid must be 0-64, got \(latentGrid)") }
        if positionalFrequencies < 0 || positionalFrequencies > 16 { out.append("model.positionalFrequencies must be 0-16, got \(positionalFrequencies)") }
        if let encoder { out += encoder.problems }
        return out
    }
}
