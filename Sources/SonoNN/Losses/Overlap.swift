import SonoTensor
/// Soft overlap losses on sigmoid probabilities: Dice and Tversky, computed per image and averaged over the
/// batch. Both come from the fused per-image sums (Σp, Σy, Σp·y) of `Tensor.sigmoidOverlapSums`, so the
/// image-sized work is one pass forward and one backward; what follows is arithmetic on [N, 1] tensors.

/// What to do with images whose mask is empty (normal scans: no lesion).
public enum EmptyMaskPolicy: String, Codable, Sendable {
    /// Keep them: with smoothing s the score is s / (Σp + s), so the loss pulls every probability towards 0
    /// (and is 0 exactly when the prediction is empty). Needs s > 0 to be defined.
    case smooth
    /// Leave them out of the batch mean (another loss term, e.g. BCE, must teach "no lesion"). A batch of only
    /// empty masks gives 0 with zero gradient.
    case exclude
}

/// Soft Dice loss on logits [N, …] against masks of the same shape (values in [0, 1]):
/// 1 − mean_n (2 Σ p·y + s) / (Σ p + Σ y + s), p = σ(logits), sums per image.
public func softDiceLoss(_ logits: Tensor, _ target: Tensor, smooth: Float = 1, emptyMasks: EmptyMaskPolicy = .smooth) -> Tensor {
    precondition(smooth >= 0, "softDiceLoss: smooth must be >= 0, got \(smooth)")
    let (p, y, py) = overlapSums(logits, target, "softDiceLoss")
    let score = (2 * py + smooth) / (p + y + smooth)
    return batchMean(1 - score, target: y, emptyMasks)
}

/// Tversky loss (Salehi et al. 2017) on logits [N, …]: 1 − mean_n (TP + s) / (TP + α·FP + β·FN + s) with
/// soft TP = Σ p·y, FP = Σ p·(1 − y), FN = Σ (1 − p)·y per image. α weighs false positives, β false
/// negatives; α = β = 0.5 is Dice (up to how s enters), β > α favours recall of small lesions.
public func tverskyLoss(_ logits: Tensor, _ target: Tensor, alpha: Float = 0.3, beta: Float = 0.7, smooth: Float = 1,
                        emptyMasks: EmptyMaskPolicy = .smooth) -> Tensor {
    precondition(alpha >= 0 && beta >= 0 && smooth >= 0, "tverskyLoss: alpha, beta, smooth must be >= 0, got \(alpha), \(beta), \(smooth)")
    let (p, y, tp) = overlapSums(logits, target, "tverskyLoss")
    let fp = p - tp, fn = y - tp
    let index = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    return batchMean(1 - index, target: y, emptyMasks)
}

/// Weighted sum of BCE (mean over pixels) and soft Dice: the usual U-Net segmentation objective.
public func bceDiceLoss(_ logits: Tensor, _ target: Tensor, bceWeight: Float = 1, diceWeight: Float = 1, smooth: Float = 1,
                        positiveWeight: Float = 1, pixelWeight: Tensor? = nil, emptyMasks: EmptyMaskPolicy = .smooth) -> Tensor {
    let bce = bceWithLogitsLoss(logits, target, weight: pixelWeight, positiveWeight: positiveWeight)
    let dice = softDiceLoss(logits, target, smooth: smooth, emptyMasks: emptyMasks)
    return bceWeight * bce + diceWeight * dice
}

/// (Σp, Σy, Σp·y), each [N, 1].
private func overlapSums(_ logits: Tensor, _ target: Tensor, _ name: String) -> (Tensor, Tensor, Tensor) {
    precondition(logits.shape == target.shape && logits.rank >= 2,
                 "\(name): logits \(logits.shape) and target \(target.shape) should match, [N, …]")
    let sums = Tensor.sigmoidOverlapSums(logits: logits, target: target)
    let parts = sums.split(axis: 1, sizes: [1, 1, 1])
    return (parts[0], parts[1], parts[2])
}

/// Mean of per-image losses [N, 1], optionally over non-empty masks only (Σy [N, 1] tells which).
private func batchMean(_ perImage: Tensor, target sumY: Tensor, _ policy: EmptyMaskPolicy) -> Tensor {
    guard policy == .exclude else { return perImage.mean() }
    let keep = sumY.scalars.map { $0 > 0 ? Float(1) : 0 }
    let kept = keep.reduce(0, +)
    // all empty: 0 that still belongs to the graph, so backward() through a sum of losses works
    if kept == 0 { return (perImage * 0).sum() }
    return (perImage * Tensor(keep, shape: sumY.shape)).sum() / kept
}
