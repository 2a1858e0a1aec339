import SonoKernels
/// Bilinear sampling of per-image feature grids at continuous coordinates (local latent codes of an implicit
/// network, as in local implicit functions). Forward and VJP side by side.
extension Tensor {
    /// grid [B, C, h, w] sampled at `coords` [B·P, 2] (image-major: image b owns rows b·P..<(b+1)·P; (x, y) in
    /// [-1, 1], pixel centres as PyTorch's `grid_sample(align_corners=False)`, border padding) → [B·P, C].
    /// The gradient flows to the grid only: coordinates are data.
    public func sampledBilinear(at coords: Tensor) -> Tensor {
        precondition(rank == 4, "sampledBilinear: grid should be [B, C, h, w], got \(shape)")
        precondition(coords.rank == 2 && coords.shape[1] == 2, "sampledBilinear: coords \(coords.shape) should be [B·P, 2]")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let n = coords.shape[0]
        precondition(n % b == 0, "sampledBilinear: \(n) points do not split evenly over \(b) images")
        let p = n / b
        let cells = Self.bilinearCells(coords.contiguousPlain().scalars, width: w, height: h)
        // channels last, so each corner's C values are contiguous
        let nhwc = permuted([0, 2, 3, 1]).contiguousPlain()
        let out = Tensor.empty([n, c])
        let (src, dst) = (nhwc.ptr, out.ptr)
        Parallel.forRanges(n, minChunk: 2048) { range in
            for i in range {
                let base = (i / p) * h * w, o = dst + i * c
                o.update(repeating: 0, count: c)
                for k in 0..<4 {
                    let s = src + (base + cells.index[4 * i + k]) * c, wk = cells.weight[4 * i + k]
                    for j in 0..<c { o[j] += wk * s[j] }
                }
            }
        }
        return out.recorded([nhwc]) { g, _ in
            let gp = g.contiguousPlain()
            let gx = Tensor.zeros([b, h, w, c])
            let (gs, gd) = (gp.ptr, gx.ptr)
            // one image's points only touch its own grid: images are the unit of parallel work
            Parallel.forRanges(b, minChunk: 1) { images in
                for image in images {
                    for i in (image * p)..<((image + 1) * p) {
                        let s = gs + i * c, base = image * h * w
                        for k in 0..<4 {
                            let d = gd + (base + cells.index[4 * i + k]) * c, wk = cells.weight[4 * i + k]
                            for j in 0..<c { d[j] += wk * s[j] }
                        }
                    }
                }
            }
            return [gx]
        }
    }

    /// The four neighbouring cells (row-major index in an h×w grid) of each (x, y) and their bilinear weights,
    /// flattened [points·4].
    static func bilinearCells(_ xy: [Float], width w: Int, height h: Int) -> (index: [Int], weight: [Float]) {
        let n = xy.count / 2
        var index = [Int](repeating: 0, count: 4 * n), weight = [Float](repeating: 0, count: 4 * n)
        for i in 0..<n {
            // pixel-centre convention: x = -1 is the left edge of cell 0, whose centre sits at -1 + 1/w
            let fx = Swift.min(Swift.max((xy[2 * i] + 1) * Float(w) / 2 - 0.5, 0), Float(w - 1))
            let fy = Swift.min(Swift.max((xy[2 * i + 1] + 1) * Float(h) / 2 - 0.5, 0), Float(h - 1))
            let x0 = Int(fx), y0 = Int(fy), x1 = Swift.min(x0 + 1, w - 1), y1 = Swift.min(y0 + 1, h - 1)
            let ax = fx - Float(x0), ay = fy - Float(y0)
            (index[4 * i], index[4 * i + 1], index[4 * i + 2], index[4 * i + 3]) = (y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1)
            (weight[4 * i], weight[4 * i + 1], weight[4 * i + 2], weight[4 * i + 3]) = ((1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay)
        }
        return (index, weight)
    }
}
