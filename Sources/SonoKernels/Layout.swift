/// Physical arrangement of a tensor's elements. Above this layer every tensor is logically NCHW (or plain N-D);
/// only the kernels know that a 4-D activation may sit in one of oneDNN's channel-blocked layouts `nChw{b}c`,
/// where the element (n, c, h, w) of a tensor with C channels lives at
/// `((n * C/b + c/b) * H * W + h * W + w) * b + c % b`.
///
/// The block width `b` is not a constant: it is whatever oneDNN's fastest convolutions take on the CPU the
/// program runs on (16 with AVX-512, 8 with AVX2; see `CPUPlatform`).
public enum Layout: Hashable, Sendable, CustomStringConvertible {
    /// Row-major over the logical shape.
    case plain
    /// oneDNN `nChw{b}c` with `b` channels per block; only for 4-D tensors whose channel count is a multiple of
    /// `b`, so the blocked buffer has no padding and holds exactly the logical element count.
    case blocked(Int)

    /// Channels per block, or nil for `plain`.
    public var blockWidth: Int? {
        if case let .blocked(b) = self { return b }
        return nil
    }

    public var isBlocked: Bool { blockWidth != nil }

    /// Whether a tensor of `shape` can be stored in this layout.
    public func holds(_ shape: [Int]) -> Bool {
        guard let b = blockWidth else { return true }
        return shape.count == 4 && shape[1] % b == 0
    }

    /// oneDNN's name of the layout: `abcd`-style row-major is "plain", blocked ones are `nChw16c`, `nChw8c`.
    public var description: String {
        guard let b = blockWidth else { return "plain" }
        return "nChw\(b)c"
    }

    /// The layout a convolution-family kernel should produce for an activation of `shape`: the blocked layout of
    /// this CPU (`CPUPlatform.activationBlock`) when the shape is 4-D and its channels fill whole blocks, plain
    /// otherwise, or everywhere on CPUs where oneDNN has no fast blocked kernels.
    public static func preferred(for shape: [Int]) -> Layout {
        guard let b = CPUPlatform.activationBlock, shape.count == 4, shape[1] % b == 0 else { return .plain }
        return .blocked(b)
    }
}
