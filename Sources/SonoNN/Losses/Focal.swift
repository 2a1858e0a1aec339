import SonoTensor
/// Binary focal loss on logits (Lin et al. 2017), mean over elements, as torchvision's `sigmoid_focal_loss`
/// with reduction "mean": α_t · BCE · (1 − p_t)^γ. `alpha` < 0 disables the class weighting; γ = 0 with no
/// α is plain BCE. Fused primitive with a hand-written gradient (`sigmoidFocalLoss` in SonoTensor).
public func focalLoss(_ logits: Tensor, _ target: Tensor, alpha: Float = 0.25, gamma: Float = 2) -> Tensor {
    sigmoidFocalLoss(logits, target, alpha: alpha, gamma: gamma)
}
