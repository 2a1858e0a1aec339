import Foundation
import SonoTensor

/// Adam for `EmbeddingTable`s that touches only rows with a pending gradient ("lazy" Adam, as TensorFlow's
/// LazyAdam and PyTorch's SparseAdam): untouched codes keep their values *and* moments, which is what
/// DeepSDF-style auto-decoders need — a code not in this batch must not drift on stale momentum.
///
/// Each row counts its own steps for the bias correction (1 − βᵗ with t = that row's update count), so a code
/// updated for the first time late in training gets the same first step as on step 1. (SparseAdam uses the
/// global step instead, which makes a late first update about 1/(1 − β1) too large relative to Adam.)
///
/// Usage per training step: `loss.backward()`; `adam.update(model.namedParameters(), …)` for the network;
/// `lazy.update([("codes", table)], learningRate: …)` for the codes. `update` consumes the table's pending
/// gradients (clears them), so no separate `zeroGrad` is needed for the table.
public final class LazyAdam {
    public let beta1: Float, beta2: Float, eps: Float
    var m: [String: Tensor] = [:], v: [String: Tensor] = [:]
    /// Per-row update counts, by table name.
    var steps: [String: [Int]] = [:]

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2) && eps > 0,
                     "LazyAdam: betas must be in [0, 1) and eps > 0, got \(beta1), \(beta2), \(eps)")
        (self.beta1, self.beta2, self.eps) = (beta1, beta2, eps)
    }

    public func update(_ tables: [(String, EmbeddingTable)], learningRate lr: Float) {
        let (b1, b2, eps) = (beta1, beta2, eps)
        for (name, table) in tables {
            let (rows, d) = (table.rows, table.dims)
            let mb = m[name] ?? Tensor.zeros([rows, d]), vb = v[name] ?? Tensor.zeros([rows, d])
            m[name] = mb; v[name] = vb
            var counts = steps[name] ?? [Int](repeating: 0, count: rows)
            let touched = table.touchedRows
            for i in touched { counts[i] += 1 }
            steps[name] = counts
            let grads = touched.map { table.gradientRows[$0]! }
            // Bias corrections per touched row (each row counts its own steps).
            let corrections = touched.map { i -> (stepSize: Float, invC2: Float) in
                let t = Float(counts[i])
                return (lr / (1 - Foundation.pow(b1, t)), 1 / (1 - Foundation.pow(b2, t)))
            }
            table.weight.updateRows(touched, gradients: grads, state: mb, vb) { k, theta, g, m, v in
                let (stepSize, invC2) = corrections[k]
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                theta = theta - stepSize * m / ((v * invC2).squareRoot() + eps)
            }
            table.zeroGrad()
        }
    }

    /// Moments and per-row step counts as named tensors (for checkpoints).
    public func state() -> [(String, Tensor)] {
        m.map { ("m." + $0.key, $0.value.plainCopy().reshaped([$0.value.count])) } +
            v.map { ("v." + $0.key, $0.value.plainCopy().reshaped([$0.value.count])) } +
            steps.map { ("steps." + $0.key, Tensor($0.value.map(Float.init), shape: [$0.value.count])) }
    }

    public func load(state: [String: Tensor]) {
        for (k, t) in state {
            if k.hasPrefix("m.") { m[String(k.dropFirst(2))] = t.plainCopy() }
            else if k.hasPrefix("v.") { v[String(k.dropFirst(2))] = t.plainCopy() }
            else if k.hasPrefix("steps.") { steps[String(k.dropFirst(6))] = t.scalars.map { Int($0) } }
        }
    }
}
