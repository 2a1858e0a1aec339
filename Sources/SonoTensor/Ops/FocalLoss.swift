import SonoKernels
/// Binary focal loss on logits (Lin et al. 2017, torchvision's `sigmoid_focal_loss`), fused with a
/// hand-written gradient: the composed form needs σ, softplus, a power and their products both ways.
///   p = σ(x), ce = y·softplus(−x) + (1 − y)·softplus(x), q = 1 − p_t = p + y − 2py,
///   loss = α_t · ce · q^γ with α_t = α y + (1 − α)(1 − y) (α < 0: no weighting), mean over elements.
///   d/dx = α_t · [(p − y) q^γ + ce · γ q^(γ−1) · p(1 − p)(1 − 2y)].
public func sigmoidFocalLoss(_ logits: Tensor, _ target: Tensor, alpha: Float = 0.25, gamma: Float = 2) -> Tensor {
    precondition(logits.shape == target.shape, "sigmoidFocalLoss: logits \(logits.shape) and target \(target.shape) differ")
    precondition(gamma >= 0, "sigmoidFocalLoss: gamma must be >= 0, got \(gamma)")
    let x = logits.storage(in: target.layout).plainStorage(), y = target.plainStorage()
    let n = x.count
    let weighted = alpha >= 0
    @inline(__always) func alphaT(_ y: V16) -> V16 { weighted ? alpha * y + (1 - alpha) * (1 - y) : V16(repeating: 1) }
    /// q^e for q ≥ 0, with 0^0 = 1 (γ = 0 is plain BCE; γ = 1 has q^0 in the gradient).
    @inline(__always) func power(_ q: V16, _ e: Float) -> V16 {
        if e == 0 { return V16(repeating: 1) }
        if e == 1 { return q }
        if e == 2 { return q * q }
        let safe = q.replacing(with: 1, where: q .<= 0)
        return vexp(e * vlog(safe)).replacing(with: 0, where: q .<= 0)
    }
    let total = Elementwise.reduceSum2(n, x.buffer.pointer, y.buffer.pointer) { x, y in
        let p = vsigmoid(x)
        let ce = y * vsoftplus(-x) + (1 - y) * vsoftplus(x)
        let q = (p + y - 2 * p * y).clamped(lowerBound: V16(), upperBound: V16(repeating: 1))
        return alphaT(y) * ce * power(q, gamma)
    }
    return Tensor(Float(total / Double(n))).recordedLoss([logits]) { g in
        let gx = Tensor.uninitialized(x.shape)
        let s = g / Float(n)
        Elementwise.map2(n, x.buffer.pointer, y.buffer.pointer, gx.buffer.pointer) { x, y in
            let p = vsigmoid(x)
            let ce = y * vsoftplus(-x) + (1 - y) * vsoftplus(x)
            let q = (p + y - 2 * p * y).clamped(lowerBound: V16(), upperBound: V16(repeating: 1))
            let dq = gamma == 0 ? V16() : gamma * power(q, gamma - 1) * p * (1 - p) * (1 - 2 * y)
            return s * alphaT(y) * ((p - y) * power(q, gamma) + ce * dq)
        }
        return [gx.storage(in: logits.layout)]
    }
}
