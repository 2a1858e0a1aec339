extension Mask {
    /// The lesion's boundary: lesion pixels with a 4-neighbour outside the lesion (or on the image edge),
    /// thickened inwards to `thickness` pixels. Used to draw contours on overlays.
    public func outline(thickness: Int = 1) -> Mask {
        var remaining = self
        var result = Mask(width: width, height: height)
        for _ in 0..<max(1, thickness) {
            let ring = remaining.innerBoundary()
            for i in ring.pixels.indices where ring.pixels[i] != 0 {
                result.pixels[i] = 1
                remaining.pixels[i] = 0
            }
        }
        return result
    }

    private func innerBoundary() -> Mask {
        let w = width, h = height
        var out = Mask(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w where pixels[y * w + x] != 0 {
                let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                if edge || pixels[y * w + x - 1] == 0 || pixels[y * w + x + 1] == 0
                    || pixels[(y - 1) * w + x] == 0 || pixels[(y + 1) * w + x] == 0 {
                    out.pixels[y * w + x] = 1
                }
            }
        }
        return out
    }
}
