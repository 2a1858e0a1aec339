import Foundation
import SonoBase
import SonoTensor

/// A trainable table of latent codes [rows, dims] with a sparse gradient: an auto-decoder (DeepSDF, NISF) has
/// one code per training image but sees only a batch of them per step, so the backward pass accumulates only
/// into the rows it used and `LazyAdam` updates only those rows (and their moments).
///
/// How it hooks into the tape: the lookup records on a private one-element `anchor` tensor instead of the
/// table, and its VJP adds the incoming rows into `gradientRows` as a side effect, returning no gradient. So
/// `weight.grad` stays nil and a dense optimizer (`Adam`) skips the table; step it with `LazyAdam.update`.
/// Freezing follows `weight.requiresGrad` (so `Module.setFrozen` works as for any parameter).
public final class EmbeddingTable: Module {
    /// The codes [rows, dims]; a parameter for checkpoints (`weight`).
    public let weight: Tensor
    public var isTraining = true
    public var rows: Int { weight.shape[0] }
    public var dims: Int { weight.shape[1] }
    /// Accumulated gradient of each touched row since the last `zeroGrad` / optimizer step.
    public private(set) var gradientRows: [Int: [Float]] = [:]
    private let anchor = Tensor.zeros([1])

    /// Codes drawn from N(0, std²); the DeepSDF default std is 1/√dims.
    public init(rows: Int, dims: Int, std: Float? = nil, rng: inout RandomGenerator) {
        precondition(rows > 0 && dims > 0, "EmbeddingTable needs rows, dims > 0, got \(rows), \(dims)")
        weight = Tensor.normal([rows, dims], std: std ?? 1 / Float(dims).squareRoot(), rng: &rng, requiresGrad: true)
    }

    public var ownParameters: [(String, Tensor)] { [("weight", weight)] }

    /// The rows with a pending gradient, ascending.
    public var touchedRows: [Int] { gradientRows.keys.sorted() }

    /// indices (each in 0..<rows) → codes [indices.count, dims].
    public func callAsFunction(_ indices: [Int]) -> Tensor {
        for i in indices { precondition(i >= 0 && i < rows, "EmbeddingTable: index \(i) out of range for \(rows) rows") }
        let d = dims
        let out = weight.withPlainValues { src in
            Tensor(shape: [indices.count, d]) { dst in
                for (r, i) in indices.enumerated() { for k in 0..<d { dst[r * d + k] = src[i * d + k] } }
            }
        }
        guard weight.requiresGrad else { return out }
        anchor.requiresGrad = true
        return out.recordedOp([anchor]) { [weak self] g, _ in
            self?.accumulate(g.plainStorage(), indices)
            return [nil]
        }
    }

    private func accumulate(_ g: Tensor, _ indices: [Int]) {
        let d = dims
        g.withPlainValues { p in
            for (r, i) in indices.enumerated() {
                var row = gradientRows[i] ?? [Float](repeating: 0, count: d)
                for k in 0..<d { row[k] += p[r * d + k] }
                gradientRows[i] = row
            }
        }
    }

    /// Drops pending row gradients (the sparse counterpart of `Optimizer.zeroGrad`).
    public func zeroGrad() { gradientRows.removeAll(keepingCapacity: true) }

    /// The pending gradient as a dense [rows, dims] tensor (zero in untouched rows): for tests and inspection.
    public func denseGradient() -> Tensor {
        let d = dims
        return Tensor(shape: [rows, d]) { t in
            t.initialize(repeating: 0)
            for (i, row) in gradientRows { for k in 0..<d { t[i * d + k] = row[k] } }
        }
    }
}
