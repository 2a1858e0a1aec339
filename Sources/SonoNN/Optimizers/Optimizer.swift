import Foundation
import SonoTensor
/// Updates parameters from their accumulated gradients. State (moments, velocities) is kept per parameter
/// name, so it can be saved beside the weights and a killed run resumes exactly.
public protocol Optimizer: AnyObject {
    /// One step on every parameter that has a gradient. Parameters without one are skipped and their state
    /// does not advance, as in PyTorch.
    func update(_ parameters: [(String, Tensor)], learningRate: Float)
    /// The optimizer's state as named tensors (for checkpoints), keyed `<parameter>.<slot>`. Copies: the caller
    /// may keep them while training goes on.
    func state() -> [(String, Tensor)]
    /// Replaces the whole state with `state` (as returned by `state()`); throws on keys it does not know.
    func load(state: [String: Tensor]) throws
    /// Hyperparameters that must match for a resumed run to continue exactly (recorded in checkpoints).
    var hyperparameters: [String: Double] { get }
}

extension Optimizer {
    public var hyperparameters: [String: Double] { [:] }

    /// Clears gradients before the next backward pass.
    public func zeroGrad(_ parameters: [(String, Tensor)]) {
        for (_, p) in parameters { p.grad = nil }
    }
}

/// Errors from restoring optimizer state.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A state key that this optimizer does not write (state from another optimizer type?).
    case unexpectedStateKey(optimizer: String, key: String)
    /// A state tensor with the wrong size or value.
    case invalidState(optimizer: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .unexpectedStateKey(o, k): return "\(o): unexpected state key '\(k)'"
        case let .invalidState(o, k, r): return "\(o): invalid state '\(k)': \(r)"
        }
    }
}

/// Splits a state key `<parameter>.<slot>` at its last dot. Parameter names are dotted themselves, slots
/// never are, so the last dot is the boundary.
func splitStateKey(_ key: String) -> (parameter: String, slot: String)? {
    guard let dot = key.lastIndex(of: "."), dot != key.startIndex else { return nil }
    return (String(key[..<dot]), String(key[key.index(after: dot)...]))
}

/// A state vector as a tensor of the parameter's shape, copied so the caller owns it.
func stateTensor(_ state: Tensor, shape: [Int]) -> Tensor {
    state.plainCopy().reshaped(shape)
}

/// A state tensor read back from a checkpoint as the flat vector the update runs on, copied so the optimizer
/// owns it.
func stateVector(_ t: Tensor) -> Tensor {
    t.plainCopy().reshaped([t.count])
}

/// A per-parameter step count as a scalar tensor. Float32 counts exactly to 2^24, like PyTorch's float32
/// `step` tensors; a run longer than that would resume with a rounded count.
func stepTensor(_ step: Int) -> Tensor {
    precondition(step <= 1 << 24, "optimizer step \(step) exceeds 2^24, which Float32 state cannot hold exactly")
    return Tensor(Float(step))
}

/// Reads a step count back, rejecting anything that is not a non-negative whole number.
func stepValue(_ t: Tensor, optimizer: String, key: String) throws -> Int {
    guard t.count == 1, let v = t.scalars.first, v >= 0, v == v.rounded(), v <= Float(1 << 24) else {
        throw OptimizerError.invalidState(optimizer: optimizer, key: key, reason: "step must be one whole number ≥ 0, got \(t)")
    }
    return Int(v)
}
