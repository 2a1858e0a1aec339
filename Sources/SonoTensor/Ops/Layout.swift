import SonoKernels
extension Tensor {
    /// The same values in another physical layout; the gradient converts back.
    public func toLayout(_ target: Layout) -> Tensor {
        if layout == target { return self }
        let source = layout
        return contiguous(target).recorded([self]) { g, _ in [g.contiguous(source)] }
    }

    /// The same values in plain row-major layout.
    public func plain() -> Tensor { toLayout(.plain) }
}
