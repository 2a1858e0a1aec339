/// Physical arrangement of a tensor's elements. Above this layer every tensor is logically NCHW (or plain N-D);
/// only the kernels know that a 4-D activation may sit in oneDNN's channel-blocked `nChw16c` layout, where the
/// element (n, c, h, w) lives at `((n * C/16 + c/16) * H * W + h * W + w) * 16 + c % 16`.
public enum Layout: String, Sendable, Codable {
    /// Row-major over the logical shape.
    case plain
    /// oneDNN `nChw16c`; used only for 4-D tensors whose channel count is a multiple of 16, so the blocked
    /// buffer has no padding and holds exactly the logical element count.
    case blocked16

    /// Channels per block of `blocked16`.
    public static let blockSize = 16

    /// The layout a convolution-family kernel should produce for an activation of `shape`: blocked when it is
    /// 4-D and its channels fill whole 16-wide blocks. Measured here, oneDNN's AVX-512 convolutions in blocked
    /// layout run about 2x faster than in plain NCHW.
    public static func preferred(for shape: [Int]) -> Layout {
        shape.count == 4 && shape[1] % 16 == 0 ? .blocked16 : .plain
    }
}
