import SonoTensor
/// Stochastic gradient descent with momentum (Polyak 1964; Sutskever et al. 2013), Nesterov momentum and L2
/// weight decay, with PyTorch's `torch.optim.SGD` semantics:
///
///     g ← g + λ θ                                  (weight decay)
///     b ← g                       on the first step,
///     b ← μ b + (1 − τ) g         afterwards        (momentum μ, dampening τ)
///     g ← g + μ b  (Nesterov)   or   g ← b
///     θ ← θ − lr · g
///
/// Note PyTorch's convention (also used here): the velocity is not scaled by lr, so changing the learning
/// rate mid-run changes the step size immediately.
public final class SGD: Optimizer {
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    /// Velocity per parameter name; absent until the parameter's first step.
    var velocity: [String: Tensor] = [:]
    var shapes: [String: [Int]] = [:]

    public init(momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0, "SGD: momentum must be ≥ 0, got \(momentum)")
        precondition(dampening >= 0 && dampening <= 1, "SGD: dampening must be in [0, 1], got \(dampening)")
        precondition(weightDecay >= 0, "SGD: weight decay must be ≥ 0, got \(weightDecay)")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov needs momentum > 0 and zero dampening, got momentum \(momentum), dampening \(dampening)")
        (self.momentum, self.dampening, self.weightDecay, self.nesterov) = (momentum, dampening, weightDecay, nesterov)
    }

    public var hyperparameters: [String: Double] {
        ["momentum": Double(momentum), "dampening": Double(dampening), "weight_decay": Double(weightDecay),
         "nesterov": nesterov ? 1 : 0]
    }

    public func update(_ parameters: [(String, Tensor)], learningRate lr: Float) {
        precondition(lr >= 0 && lr.isFinite, "SGD: learning rate must be finite and ≥ 0, got \(lr)")
        let (mu, wd, keep, nesterov) = (momentum, weightDecay, 1 - dampening, self.nesterov)
        for (name, p) in parameters {
            guard let g = p.grad?.plainStorage() else { continue }
            precondition(p.layout == .plain, "SGD: parameter '\(name)' must be stored plain, it is \(p.layout)")
            let n = p.count
            guard mu != 0 else {
                p.update(with: g) { t, g in t -= lr * (g + wd * t) }
                continue
            }
            let first = velocity[name] == nil
            let vb = velocity[name] ?? Tensor.zeros([n])
            precondition(vb.count == n, "SGD: state for '\(name)' holds \(vb.count) values, parameter has \(n)")
            velocity[name] = vb; shapes[name] = p.shape
            p.update(with: g, state: vb) { t, g, b in
                let d = g + wd * t
                b = first ? d : mu * b + keep * d
                t -= lr * (nesterov ? d + mu * b : b)
            }
        }
    }

    public func state() -> [(String, Tensor)] {
        velocity.keys.sorted().map { ("\($0).momentum_buffer", stateTensor(velocity[$0]!, shape: shapes[$0]!)) }
    }

    public func load(state: [String: Tensor]) throws {
        var v: [String: Tensor] = [:], s: [String: [Int]] = [:]
        for (key, t) in state {
            guard let (name, slot) = splitStateKey(key), slot == "momentum_buffer" else {
                throw OptimizerError.unexpectedStateKey(optimizer: "SGD", key: key)
            }
            v[name] = stateVector(t); s[name] = t.shape
        }
        (velocity, shapes) = (v, s)
    }
}
