/// A square window of an image around its lesion, so that a classifier sees the lesion and its margin at a
/// higher resolution than the whole frame gives it. Parts of the window outside the image read as 0 (the
/// ultrasound background), so a lesion at the border stays centred.
public struct CropBox: Sendable, Equatable, Codable {
    /// Top-left corner in image pixels (may be negative) and the side length.
    public var x: Int
    public var y: Int
    public var side: Int

    /// The square around `mask`'s lesion pixels: the longer side of their bounding box plus `margin` times it on
    /// each side, at least `minimumFraction` of the image's shorter side. An empty mask gives the whole image
    /// (its longer side, centred), so a lesion-free image is still classified.
    public init(around mask: Mask, margin: Double, minimumFraction: Double) {
        var (minX, minY, maxX, maxY) = (Int.max, Int.max, -1, -1)
        for y in 0..<mask.height {
            for x in 0..<mask.width where mask.pixels[y * mask.width + x] != 0 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else {
            let s = max(mask.width, mask.height)
            self.init(x: (mask.width - s) / 2, y: (mask.height - s) / 2, side: s)
            return
        }
        let longer = Double(max(maxX - minX + 1, maxY - minY + 1))
        let floor = minimumFraction * Double(min(mask.width, mask.height))
        let side = max(2, Int(max(longer * (1 + 2 * margin), floor).rounded()))
        let cx = Double(minX + maxX + 1) / 2, cy = Double(minY + maxY + 1) / 2
        self.init(x: Int((cx - Double(side) / 2).rounded()), y: Int((cy - Double(side) / 2).rounded()), side: side)
    }

    public init(x: Int, y: Int, side: Int) { (self.x, self.y, self.side) = (x, y, side) }

    /// The window's pixels of `image` (0 outside it).
    public func apply(_ image: GrayImage) -> GrayImage {
        var out = GrayImage(width: side, height: side)
        copy(width: image.width, height: image.height) { out.pixels[$0] = image.pixels[$1] }
        return out
    }

    public func apply(_ mask: Mask) -> Mask {
        var out = Mask(width: side, height: side)
        copy(width: mask.width, height: mask.height) { out.pixels[$0] = mask.pixels[$1] }
        return out
    }

    private func copy(width: Int, height: Int, _ assign: (_ to: Int, _ from: Int) -> Void) {
        let x0 = max(0, x), x1 = min(width, x + side)
        guard x0 < x1 else { return }
        for sy in max(0, y)..<min(height, y + side) {
            for sx in x0..<x1 { assign((sy - y) * side + (sx - x), sy * width + sx) }
        }
    }
}
