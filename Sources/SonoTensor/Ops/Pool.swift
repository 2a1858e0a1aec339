import SonoKernels
/// Max and average pooling (oneDNN), global average pooling. Layout is preserved.
extension Tensor {
    /// [N, C, H, W] → [N, C, OH, OW]; `stride` defaults to the kernel size.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        pool(.max, kernel, stride ?? kernel, padding)
    }

    /// Average pooling; `countIncludePad` as in PyTorch (default true).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) -> Tensor {
        pool(countIncludePad ? .avgIncludePadding : .avg, kernel, stride ?? kernel, padding)
    }

    /// Mean over H and W: [N, C, H, W] → [N, C].
    public func globalAvgPool() -> Tensor {
        precondition(rank == 4, "globalAvgPool needs [N, C, H, W], got \(shape)")
        return avgPool2d(kernel: (shape[2], shape[3])).reshaped([shape[0], shape[1]])
    }

    private func pool(_ kind: PoolGeometry.Kind, _ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int)) -> Tensor {
        precondition(rank == 4, "pooling needs [N, C, H, W], got \(shape)")
        let g = PoolGeometry(n: shape[0], c: shape[1], h: shape[2], w: shape[3], kernel: k, stride: s, padding: p, kind: kind)
        precondition(g.outH > 0 && g.outW > 0, "\(g): output would be empty")
        let out = Tensor.empty(g.dstDims, layout)
        let recording = GradMode.isEnabled && requiresGrad
        let workspace = recording && kind == .max ? Buffer(count: PoolKernels.workspaceCount(g, layout)) : nil
        PoolKernels.forward(g, layout: layout, src: ptr, dst: out.ptr, workspace: workspace?.pointer)
        let layout = self.layout
        return out.recorded([self]) { gy, _ in
            let gy = gy.contiguous(layout)
            let gx = Tensor.empty(g.srcDims, layout)
            PoolKernels.backward(g, layout: layout, diffDst: gy.ptr, diffSrc: gx.ptr, workspace: workspace?.pointer)
            return [gx]
        }
    }
}
