import SonoTensor
/// Multi-class cross-entropy on logits, as PyTorch's `cross_entropy` with `weight` and `ignore_index`:
///   loss = −Σ_i w[y_i] · log softmax(x_i)[y_i] / Σ_i w[y_i]   (i over samples, or samples × pixels).
/// Composed as log-softmax times a constant coefficient map (w[y_i] / Σ w at the target class, 0 elsewhere),
/// summed: two SIMD passes each way, no gather op needed.

/// logits [N, K] with `targets` [N] class indices, or [N, K, H, W] with `targets` in [N, H, W] order.
/// Targets equal to `ignoreIndex` contribute nothing and do not count in the mean.
public func crossEntropyLoss(_ logits: Tensor, targets: [Int], classWeights: [Float]? = nil, ignoreIndex: Int? = nil) -> Tensor {
    precondition(logits.rank == 2 || logits.rank == 4, "crossEntropyLoss: logits should be [N, K] or [N, K, H, W], got \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    let spatial = logits.rank == 4 ? logits.shape[2] * logits.shape[3] : 1
    precondition(targets.count == n * spatial, "crossEntropyLoss: \(targets.count) targets for logits \(logits.shape) (need \(n * spatial))")
    if let w = classWeights { precondition(w.count == k, "crossEntropyLoss: \(w.count) class weights for \(k) classes") }
    var coefficient = [Float](repeating: 0, count: logits.count)
    var total = 0.0
    for (i, y) in targets.enumerated() where y != ignoreIndex {
        precondition(y >= 0 && y < k, "crossEntropyLoss: target \(y) out of range for \(k) classes (logits \(logits.shape))")
        let w = classWeights?[y] ?? 1
        let (sample, pixel) = (i / spatial, i % spatial)
        coefficient[(sample * k + y) * spatial + pixel] = w
        total += Double(w)
    }
    let logP = logits.logSoftmax(axis: 1)
    // every target ignored (or zero weight): PyTorch gives NaN; a 0 in the graph is more useful for training
    guard total > 0 else { return (logP * 0).sum() }
    let scale = Float(1 / total)
    return -(logP * Tensor(coefficient.map { $0 * scale }, shape: logits.shape)).sum()
}
