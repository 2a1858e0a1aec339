/// Updates parameters from their accumulated gradients. State (moments, velocities) is kept per parameter
/// name, so it can be saved beside the weights and a killed run resumes exactly.
public protocol Optimizer: AnyObject {
    /// One step on every parameter that has a gradient.
    func update(_ parameters: [(String, Tensor)], learningRate: Float)
    /// The optimizer's state as named tensors (for checkpoints).
    func state() -> [(String, Tensor)]
    func load(state: [String: Tensor])
}

extension Optimizer {
    /// Clears gradients before the next backward pass.
    public func zeroGrad(_ parameters: [(String, Tensor)]) {
        for (_, p) in parameters { p.grad = nil }
    }
}
