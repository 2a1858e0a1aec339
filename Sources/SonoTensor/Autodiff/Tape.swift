import SonoKernels
/// Define-by-run reverse-mode autodiff. Every op that sees an input requiring gradients attaches a `Node` to
/// its output: the inputs and a closure mapping the output's gradient to the inputs' gradients (the
/// vector-Jacobian product). `backward()` walks the nodes in reverse topological order.
final class Node {
    let inputs: [Tensor]
    /// Given d(loss)/d(output), returns d(loss)/d(input) for each input (nil where the input needs none).
    let vjp: (Tensor) -> [Tensor?]
    init(_ inputs: [Tensor], _ vjp: @escaping (Tensor) -> [Tensor?]) {
        (self.inputs, self.vjp) = (inputs, vjp)
    }
}

/// Whether ops record onto the tape: on unless inside `noGrad`, `inference` or `backward()`. Scoped, not global:
/// the switch is a task-local value (per thread outside Swift concurrency), so a server thread running inference
/// never turns recording off for a training thread beside it, and leaving the scope always restores it.
public enum GradMode {
    @TaskLocal static var recording = true
    @TaskLocal static var constantWeights = false

    public static var isEnabled: Bool { recording }

    /// Inside `inference`: a promise that no weight changes, so kernels may keep weights reordered to their
    /// preferred layout across calls (a loaded model serving many images).
    public static var weightsAreConstant: Bool { constantWeights }

    /// Runs `body` without recording: for inference and for parameter updates.
    @discardableResult
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $recording.withValue(false) { try body() }
    }

    /// Runs inference without recording, with constant weights (see `weightsAreConstant`).
    @discardableResult
    public static func inference<T>(_ body: () throws -> T) rethrows -> T {
        try $recording.withValue(false) { try $constantWeights.withValue(true) { try body() } }
    }
}

/// Free-function form: `noGrad { model(x) }`.
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T { try GradMode.noGrad(body) }

extension Tensor {
    /// Attaches the op that made `self` from `inputs` when recording and any input needs a gradient.
    /// `vjp` receives the output gradient; `needs[i]` tells whether input i wants one.
    @discardableResult
    func recorded(_ inputs: [Tensor], _ vjp: @escaping (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        let needs = inputs.map(\.requiresGrad)
        requiresGrad = true
        node = Node(inputs) { vjp($0, needs) }
        return self
    }

    /// Back-propagates from this tensor. A scalar loss seeds with 1; otherwise pass `seed`, the gradient of
    /// some scalar with respect to `self`. Leaf gradients accumulate across calls (call `zeroGrad` on the
    /// optimizer or set `grad = nil`). The graph is freed as it is walked.
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require gradients")
        precondition(seed != nil || count == 1, "backward() without a seed needs a scalar, shape is \(shape)")
        if let seed { precondition(seed.shape == shape, "seed shape \(seed.shape) differs from \(shape)") }
        // Optional so that each activation is released as soon as its gradient has been propagated, as
        // PyTorch does: holding the whole order to the end kept every activation alive through backward
        // (`sonoseg bench resnet50-train`: 2,214 MB peak instead of 1,732).
        var order: [Tensor?] = topologicalOrder()
        GradMode.noGrad {
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed ?? Tensor.ones(shape)]
            for i in order.indices.reversed() {
                guard let t = order[i] else { continue }
                order[i] = nil
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.node else {
                    t.accumulateGrad(g)
                    continue
                }
                let inputGrads = node.vjp(g)
                precondition(inputGrads.count == node.inputs.count, "VJP returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (input, ig) in Swift.zip(node.inputs, inputGrads) {
                    guard input.requiresGrad, let ig else { continue }
                    precondition(ig.shape == input.shape, "gradient shape \(ig.shape) for input of shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    if let existing = grads[key] {
                        grads[key] = existing.adding(ig)
                    } else {
                        grads[key] = ig
                    }
                }
                t.node = nil
            }
        }
    }

    private func accumulateGrad(_ g: Tensor) {
        let g = g.contiguous(layout)
        if let existing = grad {
            grad = existing.adding(g)
        } else {
            // Own the storage: a VJP may hand back a tensor that aliases another buffer.
            grad = g.buffer === buffer ? g.detached() : g.detach()
        }
    }

    /// Tensors reachable from `self` through nodes, inputs before outputs (iterative DFS: U-Nets are deep).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// Element-wise sum for gradient accumulation, in `self`'s layout; not recorded.
    func adding(_ other: Tensor) -> Tensor {
        let o = other.contiguous(layout)
        let out = Tensor.empty(shape, layout)
        Elementwise.map2(count, ptr, o.ptr, out.ptr) { $0 + $1 }
        return out
    }
}

extension Tensor {
    /// For scalar-valued ops defined outside this module (losses): `vjp` receives the output gradient as a
    /// Float and returns the inputs' gradients.
    @discardableResult
    public func recordedLoss(_ inputs: [Tensor], _ vjp: @escaping (Float) -> [Tensor?]) -> Tensor {
        precondition(count == 1, "recordedLoss is for scalar outputs")
        return recorded(inputs) { g, _ in vjp(g.item) }
    }

    /// For ops defined outside this module: `vjp` receives the output gradient and which inputs need one.
    @discardableResult
    public func recordedOp(_ inputs: [Tensor], _ vjp: @escaping (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        recorded(inputs, vjp)
    }

    /// Fresh uninitialised storage of `shape` (plain layout), for ops written outside this module.
    public static func uninitialized(_ shape: [Int], layout: Layout = .plain) -> Tensor { empty(shape, layout) }

    /// The storage in plain layout without recording, for kernels outside this module.
    public func plainStorage() -> Tensor { contiguousPlain() }
    /// The storage in `layout` without recording.
    public func storage(in layout: Layout) -> Tensor { contiguous(layout) }
}
