import SonoKernels

/// An n-dimensional array of Float32 that records the operations made on it, so gradients can flow back.
///
/// Shapes are logical and row-major: images are `[N, C, H, W]`, MLP activations `[points, features]`.
/// A 4-D activation may be stored channel-blocked (`Layout.blocked`, with this CPU's block width) when
/// convolution-family ops produce it;
/// ops that need a plain view convert it, and `scalars` always returns logical order.
public final class Tensor {
    public let shape: [Int]
    public let layout: Layout
    /// The storage; optimizers update parameters in place through it.
    public let buffer: Buffer
    /// Whether gradients flow to (and, for leaves, accumulate in) this tensor.
    public var requiresGrad: Bool
    /// Accumulated gradient of a leaf tensor (parameters, latent codes); nil until the first `backward()`.
    public var grad: Tensor?
    /// The operation that produced this tensor, while the graph is alive.
    var node: Node?

    public init(shape: [Int], layout: Layout = .plain, buffer: Buffer, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(buffer.count >= shape.reduce(1, *),
                     "buffer of \(buffer.count) floats is too small for shape \(shape)")
        precondition(layout.holds(shape),
                     "\(layout) needs a shape [N, C, H, W] with C a multiple of \(layout.blockWidth ?? 1), got \(shape)")
        (self.shape, self.layout, self.buffer, self.requiresGrad) = (shape, layout, buffer, requiresGrad)
    }

    /// A plain tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == shape.reduce(1, *),
                     "\(values.count) values do not fill shape \(shape) (\(shape.reduce(1, *)) elements)")
        self.init(shape: shape, buffer: Buffer(values), requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public convenience init(_ value: Float) { self.init([value], shape: []) }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, buffer: Buffer(zeros: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int]) -> Tensor { full(1, shape) }

    public static func full(_ value: Float, _ shape: [Int]) -> Tensor {
        Tensor(shape: shape, buffer: Buffer(repeating: value, count: shape.reduce(1, *)))
    }

    /// Uninitialised output storage for an op.
    static func empty(_ shape: [Int], _ layout: Layout = .plain) -> Tensor {
        Tensor(shape: shape, layout: layout, buffer: Buffer(count: shape.reduce(1, *)))
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    @inline(__always) var ptr: UnsafeMutablePointer<Float> { buffer.pointer }
    var operand: Operand { Operand(buffer.pointer, layout) }

    /// The values in logical row-major order.
    public var scalars: [Float] {
        if layout == .plain { return Array(UnsafeBufferPointer(start: ptr, count: count)) }
        return contiguousPlain().scalars
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return ptr[0]
    }

    /// A copy that does not record on the tape and shares nothing.
    public func detached() -> Tensor {
        Tensor(shape: shape, layout: layout, buffer: buffer.copy())
    }

    /// Same storage, no graph: the value as a constant.
    public func detach() -> Tensor { Tensor(shape: shape, layout: layout, buffer: buffer) }

    /// Storage in plain layout, not recorded (for kernels and backward passes).
    func contiguousPlain() -> Tensor {
        if layout == .plain { return self }
        let out = Tensor.empty(shape, .plain)
        LayoutKernels.convert(dims: shape, from: layout, to: .plain, src: ptr, dst: out.ptr)
        return out
    }

    /// Storage in `target` layout, not recorded.
    func contiguous(_ target: Layout) -> Tensor {
        if layout == target { return self }
        let out = Tensor.empty(shape, target)
        LayoutKernels.convert(dims: shape, from: layout, to: target, src: ptr, dst: out.ptr)
        return out
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}

import Foundation
