import SonoBase
import SonoTensor
/// The segmentation objective as configuration: which loss, with its parameters, Codable so a training
/// config file can name it (`{"kind": "bceDice", "diceWeight": 0.5}`; missing keys take the defaults).
public enum SegmentationLoss: String, Codable, Sendable, CaseIterable {
    case bce, dice, bceDice, kld, focal, tversky
}

public struct SegmentationLossConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public var kind: SegmentationLoss = .bceDice
    /// BCE: weight of positive (lesion) pixels, PyTorch's `pos_weight`.
    public var positiveWeight: Float = 1
    /// bceDice: weights of the two terms.
    public var bceWeight: Float = 1
    public var diceWeight: Float = 1
    /// Dice and Tversky: smoothing constant added to numerator and denominator.
    public var smooth: Float = 1
    /// Dice and Tversky: images without lesion (see `EmptyMaskPolicy`).
    public var emptyMasks: EmptyMaskPolicy = .smooth
    /// Focal loss: class balance α (< 0 disables) and focusing exponent γ.
    public var focalAlpha: Float = 0.25
    public var focalGamma: Float = 2
    /// Tversky: weights of false positives (α) and false negatives (β).
    public var tverskyAlpha: Float = 0.3
    public var tverskyBeta: Float = 0.7
    /// KL divergence: ε inside the logarithms.
    public var klEpsilon: Float = 1e-6
    /// Boundary term (U-Net's weight map, Ronneberger et al. 2015): the BCE weight of a pixel at distance d from
    /// the lesion's outline is 1 + boundaryWeight · exp(−d² / 2 boundarySigma²), d in input pixels; 0 turns it
    /// off. The outline is where another scanner's image is least like the training ones (speckle, shadowing).
    public var boundaryWeight: Float = 0
    public var boundarySigma: Float = 3

    public init(kind: SegmentationLoss = .bceDice) { self.kind = kind }
    public init() { self.init(kind: .bceDice) }

    /// The loss of logits [N, 1, H, W] against masks [N, 1, H, W] in [0, 1]. `pixelWeight` (broadcast to the
    /// logits) applies to the BCE terms only.
    public func callAsFunction(logits: Tensor, masks: Tensor, pixelWeight: Tensor? = nil) -> Tensor {
        precondition(logits.rank == 4 && logits.shape[1] == 1 && logits.shape == masks.shape,
                     "SegmentationLossConfig: logits \(logits.shape) and masks \(masks.shape) should be the same [N, 1, H, W]")
        switch kind {
        case .bce: return bceWithLogitsLoss(logits, masks, weight: pixelWeight, positiveWeight: positiveWeight)
        case .dice: return softDiceLoss(logits, masks, smooth: smooth, emptyMasks: emptyMasks)
        case .bceDice:
            return bceDiceLoss(logits, masks, bceWeight: bceWeight, diceWeight: diceWeight, smooth: smooth,
                               positiveWeight: positiveWeight, pixelWeight: pixelWeight, emptyMasks: emptyMasks)
        case .kld: return binaryPixelwiseKLDivergence(logits, masks, epsilon: klEpsilon)
        case .focal: return focalLoss(logits, masks, alpha: focalAlpha, gamma: focalGamma)
        case .tversky:
            return tverskyLoss(logits, masks, alpha: tverskyAlpha, beta: tverskyBeta, smooth: smooth, emptyMasks: emptyMasks)
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, positiveWeight, bceWeight, diceWeight, smooth, emptyMasks, focalAlpha, focalGamma
        case tverskyAlpha, tverskyBeta, klEpsilon, boundaryWeight, boundarySigma
    }

    /// What a recipe got wrong, for its error message.
    public var problems: [String] {
        var out = [String]()
        if !(boundaryWeight >= 0 && boundaryWeight <= 100) { out.append("loss.boundaryWeight is \(boundaryWeight); allowed: 0-100") }
        if !(boundarySigma > 0 && boundarySigma <= 100) { out.append("loss.boundarySigma is \(boundarySigma); allowed: (0, 100]") }
        if boundaryWeight > 0 && ![.bce, .bceDice].contains(kind) { out.append("loss.boundaryWeight weights the BCE term; loss.kind \(kind.rawValue) has none") }
        return out
    }

    /// Every key is optional; absent ones keep the defaults above.
}
