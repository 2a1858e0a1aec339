import SonoTensor
/// Pixel-wise Kullback–Leibler divergence for segmentation (Duffy et al.): the network predicts K-channel
/// logits, softmax over channels gives p; the target is a K-channel probability map t (for masks, [1 − y, y]).
///   loss = mean over pixels (N·H·W) of Σ_c t_c · (log(t_c + ε) − log(p_c + ε))
/// ε keeps log finite where t or p is 0 (hard masks). Composed from softmax, log and products: the passes are
/// few and all SIMD. The target is a constant (no gradient).

/// logits [N, K, H, W] against target probabilities [N, K, H, W] (each pixel summing to 1).
public func pixelwiseKLDivergence(_ logits: Tensor, _ target: Tensor, epsilon: Float = 1e-6) -> Tensor {
    precondition(logits.rank == 4 && logits.shape == target.shape,
                 "pixelwiseKLDivergence: logits \(logits.shape) and target \(target.shape) should be the same [N, K, H, W]")
    precondition(epsilon > 0, "pixelwiseKLDivergence: epsilon must be > 0, got \(epsilon)")
    let t = target.detach()
    let logT = noGrad { (t + epsilon).log() }
    let logP = (logits.softmax(axis: 1) + epsilon).log()
    let pixels = Float(logits.count / logits.shape[1])
    return (t * (logT - logP)).sum() / pixels
}

/// The binary case on one-channel logits [N, 1, H, W] and masks [N, 1, H, W]: two-channel logits [0, x]
/// (whose softmax is [1 − σ(x), σ(x)]) against the two-channel target [1 − y, y].
public func binaryPixelwiseKLDivergence(_ logits: Tensor, _ mask: Tensor, epsilon: Float = 1e-6) -> Tensor {
    precondition(logits.rank == 4 && logits.shape[1] == 1 && logits.shape == mask.shape,
                 "binaryPixelwiseKLDivergence: logits \(logits.shape) and mask \(mask.shape) should be the same [N, 1, H, W]")
    let twoLogits = Tensor.concat([Tensor.zeros(logits.shape), logits], axis: 1)
    let m = mask.detach()
    let twoTarget = noGrad { Tensor.concat([1 - m, m], axis: 1) }
    return pixelwiseKLDivergence(twoLogits, twoTarget, epsilon: epsilon)
}
