import SonoKernels
/// Nearest and bilinear upsampling (oneDNN; bilinear = PyTorch `align_corners=False`).
extension Tensor {
    public enum ResizeMode: String, Codable, Sendable { case nearest, bilinear }

    /// [N, C, H, W] → [N, C, outH, outW].
    public func resized(to size: (Int, Int), mode: ResizeMode) -> Tensor {
        precondition(rank == 4, "resize needs [N, C, H, W], got \(shape)")
        let dst = [shape[0], shape[1], size.0, size.1]
        if dst == shape { return self }
        let m: ResampleKernels.Mode = mode == .nearest ? .nearest : .bilinear
        let out = Tensor.empty(dst, layout)
        let src = shape, layout = self.layout
        ResampleKernels.forward(src: src, dst: dst, layout: layout, mode: m, x: ptr, y: out.ptr)
        return out.recorded([self]) { gy, _ in
            let gy = gy.contiguous(layout)
            let gx = Tensor.empty(src, layout)
            ResampleKernels.backward(src: src, dst: dst, layout: layout, mode: m, diffDst: gy.ptr, diffSrc: gx.ptr)
            return [gx]
        }
    }

    /// Upsampling by an integer factor.
    public func upsampled(by factor: Int, mode: ResizeMode) -> Tensor {
        resized(to: (shape[2] * factor, shape[3] * factor), mode: mode)
    }
}
