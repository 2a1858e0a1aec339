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
        guard let box = mask.boundingBox else {
            let s = max(mask.width, mask.height)
            self.init(x: (mask.width - s) / 2, y: (mask.height - s) / 2, side: s)
            return
        }
        let longer = Double(max(box.width, box.height))
        let floor = minimumFraction * Double(min(mask.width, mask.height))
        let side = max(2, Int(max(longer * (1 + 2 * margin), floor).rounded()))
        let cx = Double(2 * box.x + box.width) / 2, cy = Double(2 * box.y + box.height) / 2
        self.init(x: Int((cx - Double(side) / 2).rounded()), y: Int((cy - Double(side) / 2).rounded()), side: side)
    }

    public init(x: Int, y: Int, side: Int) { (self.x, self.y, self.side) = (x, y, side) }

    /// The window as a rectangle: its pixels (0 outside the image) are `square.apply(image)`.
    public var square: PixelBox { PixelBox(x: x, y: y, width: side, height: side) }

    /// The window's pixels of `image` (0 outside it).
    public func apply(_ image: GrayImage) -> GrayImage { square.apply(image) }
    public func apply(_ mask: Mask) -> Mask { square.apply(mask) }
}
