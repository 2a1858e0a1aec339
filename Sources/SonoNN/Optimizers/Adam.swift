import Foundation
import SonoTensor
/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) and AdamW (Loshchilov &
/// Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), with PyTorch's `torch.optim.Adam`/`AdamW`
/// semantics, step t counted per parameter:
///
///     g ← g + λ θ                      (Adam: L2 penalty folded into the gradient)
///     θ ← θ (1 − lr λ)                 (AdamW: decoupled decay, before the moment update)
///     m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// The bias corrections are computed in Double, as PyTorch computes them in Python floats.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool
    /// Number of `update` calls (informational; bias correction uses each parameter's own count).
    public private(set) var step = 0
    var m: [String: Tensor] = [:], v: [String: Tensor] = [:]
    var steps: [String: Int] = [:], shapes: [String: [Int]] = [:]

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        precondition((0..<1).contains(beta1), "Adam: beta1 must be in [0, 1), got \(beta1)")
        precondition((0..<1).contains(beta2), "Adam: beta2 must be in [0, 1), got \(beta2)")
        precondition(eps > 0, "Adam: eps must be > 0, got \(eps)")
        precondition(weightDecay >= 0, "Adam: weight decay must be ≥ 0, got \(weightDecay)")
        (self.beta1, self.beta2, self.eps, self.weightDecay, self.decoupled) = (beta1, beta2, eps, weightDecay, decoupled)
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default λ = 0.01).
    public static func adamW(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupled: true)
    }

    private var name: String { decoupled ? "AdamW" : "Adam" }

    public var hyperparameters: [String: Double] {
        ["beta1": Double(beta1), "beta2": Double(beta2), "eps": Double(eps), "weight_decay": Double(weightDecay),
         "decoupled": decoupled ? 1 : 0]
    }

    public func update(_ parameters: [(String, Tensor)], learningRate lr: Float) {
        precondition(lr >= 0 && lr.isFinite, "\(self.name): learning rate must be finite and ≥ 0, got \(lr)")
        step += 1
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        let (oneMinusB1, oneMinusB2) = (1 - b1, 1 - b2)
        for (name, p) in parameters {
            guard let g = p.grad?.plainStorage() else { continue }
            precondition(p.layout == .plain, "\(self.name): parameter '\(name)' must be stored plain, it is \(p.layout)")
            let n = p.count
            let mb = m[name] ?? Tensor.zeros([n]), vb = v[name] ?? Tensor.zeros([n])
            precondition(mb.count == n && vb.count == n,
                         "\(self.name): state for '\(name)' holds \(mb.count)/\(vb.count) values, parameter has \(n)")
            let t = (steps[name] ?? 0) + 1
            (m[name], v[name], steps[name], shapes[name]) = (mb, vb, t, p.shape)

            let c1 = 1 - Foundation.pow(Double(b1), Double(t)), c2 = 1 - Foundation.pow(Double(b2), Double(t))
            let stepSize = Float(Double(lr) / c1), c2Sqrt = Float(c2.squareRoot())
            // PyTorch folds L2 into the gradient (Adam) or scales θ by 1 − lr·λ (AdamW).
            let l2 = decoupled ? 0 : weightDecay
            let shrink = decoupled ? Float(1 - Double(lr) * Double(weightDecay)) : 1
            p.update(with: g, state: mb, vb) { theta, g, m, v in
                let g = g + l2 * theta
                theta *= shrink
                m += oneMinusB1 * (g - m)          // PyTorch's lerp(m, g, 1 − β1)
                v = v * b2 + oneMinusB2 * g * g
                theta -= stepSize * m / (v.squareRoot() / c2Sqrt + eps)
            }
        }
    }

    public func state() -> [(String, Tensor)] {
        m.keys.sorted().flatMap { name in
            [("\(name).exp_avg", stateTensor(m[name]!, shape: shapes[name]!)),
             ("\(name).exp_avg_sq", stateTensor(v[name]!, shape: shapes[name]!)),
             ("\(name).step", stepTensor(steps[name]!))]
        } + [("step", stepTensor(step))]
    }

    public func load(state: [String: Tensor]) throws {
        var (m, v, steps, shapes, step) = ([String: Tensor](), [String: Tensor](), [String: Int](), [String: [Int]](), 0)
        for (key, t) in state {
            if key == "step" { step = try stepValue(t, optimizer: name, key: key); continue }
            guard let (param, slot) = splitStateKey(key) else {
                throw OptimizerError.unexpectedStateKey(optimizer: name, key: key)
            }
            switch slot {
            case "exp_avg": m[param] = stateVector(t); shapes[param] = t.shape
            case "exp_avg_sq": v[param] = stateVector(t)
            case "step": steps[param] = try stepValue(t, optimizer: name, key: key)
            default: throw OptimizerError.unexpectedStateKey(optimizer: name, key: key)
            }
        }
        // Every parameter needs all three slots, of matching sizes.
        for param in Set(m.keys).union(v.keys).union(steps.keys) {
            guard let mb = m[param], let vb = v[param], steps[param] != nil, mb.count == vb.count else {
                throw OptimizerError.invalidState(optimizer: name, key: param,
                                                  reason: "needs exp_avg, exp_avg_sq and step of matching sizes")
            }
        }
        (self.m, self.v, self.steps, self.shapes, self.step) = (m, v, steps, shapes, step)
    }
}
