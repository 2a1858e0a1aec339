import SonoTensor
/// Binary cross-entropy on logits, mean over elements (PyTorch `binary_cross_entropy_with_logits`).
/// logits and target share a shape (any, e.g. [N, 1, H, W]); `weight` broadcasts to it (per-pixel or
/// per-image weights); `positiveWeight` multiplies the positive term (PyTorch's `pos_weight`, one class).
/// Runs the fused SonoTensor primitive: one SIMD pass forward and one backward.
public func bceWithLogitsLoss(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, positiveWeight: Float = 1) -> Tensor {
    precondition(logits.shape == target.shape, "bceWithLogitsLoss: logits \(logits.shape) and target \(target.shape) differ")
    precondition(positiveWeight > 0, "bceWithLogitsLoss: positiveWeight must be > 0, got \(positiveWeight)")
    return binaryCrossEntropyWithLogits(logits, target, weight: weight, positiveWeight: positiveWeight)
}
