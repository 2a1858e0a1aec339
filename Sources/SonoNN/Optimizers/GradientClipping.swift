import SonoTensor
/// Clips gradients by their global L2 norm (Pascanu et al., "On the difficulty of training recurrent neural
/// networks", ICML 2013), as PyTorch's `clip_grad_norm_`:
///
///     ‖g‖ = √(Σᵢ Σⱼ gᵢⱼ²)   over every parameter's gradient,
///     g ← g · min(1, maxNorm / (‖g‖ + 1e-6))
///
/// Returns the norm before clipping (log it: spikes warn of divergence). Squares are summed in Double so the
/// norm of a large model is accurate and independent of the thread count. A non-finite norm leaves the
/// gradients untouched (PyTorch would turn them all into NaN); check the returned value and skip the step.
/// Parameters without a gradient are ignored.
@discardableResult
public func clipGradNorm(_ parameters: [(String, Tensor)], maxNorm: Float) -> Float {
    precondition(maxNorm > 0 && maxNorm.isFinite, "clipGradNorm: maxNorm must be finite and > 0, got \(maxNorm)")
    let grads = parameters.compactMap { $0.1.grad }
    var sumSquares = 0.0
    for g in grads { sumSquares += g.sumOfSquares() }
    let norm = sumSquares.squareRoot()
    guard norm.isFinite else { return Float(norm) }
    let coefficient = Double(maxNorm) / (norm + 1e-6)
    guard coefficient < 1 else { return Float(norm) }
    let c = Float(coefficient)
    for (_, p) in parameters {
        guard let g = p.grad else { continue }
        // A new tensor, not in place: a gradient's storage may be shared with another tensor's.
        p.grad = noGrad { g * c }
    }
    return Float(norm)
}

/// `clipGradNorm` for unnamed parameters.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    clipGradNorm(parameters.map { ("", $0) }, maxNorm: maxNorm)
}
