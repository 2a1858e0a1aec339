import SonoBase
import SonoTensor

/// Anything with parameters. Parameters and buffers are listed explicitly with local names; nesting builds
/// dotted names (`enc.0.conv1.weight`) that are also the checkpoint keys, as in PyTorch's `state_dict`.
public protocol Module: AnyObject {
    /// This module's own trainable tensors, by local name (children excluded).
    var ownParameters: [(String, Tensor)] { get }
    /// This module's own non-trainable state (running statistics), by local name.
    var ownBuffers: [(String, Tensor)] { get }
    /// Sub-modules, by local name.
    var children: [(String, Module)] { get }
    /// Training or evaluation behaviour (batch-norm statistics, dropout).
    var isTraining: Bool { get set }
}

extension Module {
    public var ownParameters: [(String, Tensor)] { [] }
    public var ownBuffers: [(String, Tensor)] { [] }
    public var children: [(String, Module)] { [] }

    /// Every trainable tensor with its dotted name, depth first, in declaration order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        ownParameters.map { (prefix + $0.0, $0.1) } +
            children.flatMap { $0.1.namedParameters(prefix: prefix + $0.0 + ".") }
    }

    /// Every buffer with its dotted name.
    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        ownBuffers.map { (prefix + $0.0, $0.1) } +
            children.flatMap { $0.1.namedBuffers(prefix: prefix + $0.0 + ".") }
    }

    /// Parameters and buffers: what a checkpoint holds.
    public func stateDict() -> [(String, Tensor)] { namedParameters() + namedBuffers() }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Sets training mode here and in every descendant.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, c) in children { c.setTraining(training) }
    }

    /// Stops (or restarts) gradient flow into every parameter: frozen weights, for latent-code fitting.
    public func setFrozen(_ frozen: Bool) {
        for (_, p) in namedParameters() { p.requiresGrad = !frozen; p.grad = nil }
    }
}

/// A module with one input and one output.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Layers applied in order; children are named 0, 1, 2, … like PyTorch's `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [Layer]
    public var isTraining = true
    public init(_ layers: [Layer]) { self.layers = layers }
    public var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element as Module) } }
    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}

/// A parameter-free function as a layer (ReLU, pooling, …).
public final class Lambda: Layer {
    public var isTraining = true
    let f: (Tensor) -> Tensor
    public init(_ f: @escaping (Tensor) -> Tensor) { self.f = f }
    public func callAsFunction(_ x: Tensor) -> Tensor { f(x) }
}

/// A trainable tensor, initialised as PyTorch does by default: U(-1/√fanIn, 1/√fanIn).
func parameter(_ shape: [Int], fanIn: Int, rng: inout RandomGenerator) -> Tensor {
    let bound = 1 / Float(max(fanIn, 1)).squareRoot()
    return Tensor.uniform(shape, lo: -bound, hi: bound, rng: &rng, requiresGrad: true)
}
