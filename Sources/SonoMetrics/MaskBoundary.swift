/// Boundary pixels of a binary mask, the "surface" of the surface-distance metrics.
enum MaskBoundary {
    /// Foreground pixels that have a 4-neighbour in the background or lie on the image edge (an inner,
    /// 4-connected contour: one pixel thick, and a lesion touching the border is closed by the border).
    static func boundary(of foreground: [Bool], width: Int, height: Int) -> [Bool] {
        var result = [Bool](repeating: false, count: foreground.count)
        for y in 0..<height {
            let row = y * width
            for x in 0..<width where foreground[row + x] {
                let i = row + x
                let onEdge = x == 0 || y == 0 || x == width - 1 || y == height - 1
                result[i] = onEdge || !foreground[i - 1] || !foreground[i + 1] || !foreground[i - width]
                    || !foreground[i + width]
            }
        }
        return result
    }
}
