/// Where an image of `sourceWidth`×`sourceHeight` sits inside a `targetWidth`×`targetHeight` canvas after an
/// aspect-preserving resize: scaled to `contentWidth`×`contentHeight` and centred at (`offsetX`, `offsetY`),
/// the rest filled. Kept with each sample so a predicted mask can be mapped back to the original size.
public struct LetterboxGeometry: Codable, Sendable, Equatable {
    public var sourceWidth: Int
    public var sourceHeight: Int
    public var targetWidth: Int
    public var targetHeight: Int
    public var contentWidth: Int
    public var contentHeight: Int
    public var offsetX: Int
    public var offsetY: Int

    public init(sourceWidth: Int, sourceHeight: Int, targetWidth: Int, targetHeight: Int) {
        (self.sourceWidth, self.sourceHeight, self.targetWidth) = (sourceWidth, sourceHeight, targetWidth)
        self.targetHeight = targetHeight
        let scale = min(Double(targetWidth) / Double(sourceWidth), Double(targetHeight) / Double(sourceHeight))
        contentWidth = max(1, min(targetWidth, Int((Double(sourceWidth) * scale).rounded())))
        contentHeight = max(1, min(targetHeight, Int((Double(sourceHeight) * scale).rounded())))
        offsetX = (targetWidth - contentWidth) / 2
        offsetY = (targetHeight - contentHeight) / 2
    }

    /// A plain stretch (no padding): content fills the whole target.
    public static func stretch(sourceWidth: Int, sourceHeight: Int, targetWidth: Int, targetHeight: Int) -> LetterboxGeometry {
        var g = LetterboxGeometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight,
                                  targetWidth: targetWidth, targetHeight: targetHeight)
        g.contentWidth = targetWidth; g.contentHeight = targetHeight; g.offsetX = 0; g.offsetY = 0
        return g
    }
}

public enum Letterbox {
    /// `image` resized into the target canvas per `geometry`, padding with `fill` (0 = black, as the
    /// ultrasound background).
    public static func apply(_ image: GrayImage, _ geometry: LetterboxGeometry, method: ImageResampling = .area,
                             fill: Float = 0) -> GrayImage {
        let content = image.resized(width: geometry.contentWidth, height: geometry.contentHeight, method: method)
        var canvas = GrayImage(width: geometry.targetWidth, height: geometry.targetHeight, value: fill)
        for y in 0..<content.height {
            let dst = (y + geometry.offsetY) * canvas.width + geometry.offsetX
            canvas.pixels.replaceSubrange(dst..<(dst + content.width),
                                          with: content.pixels[(y * content.width)..<((y + 1) * content.width)])
        }
        return canvas
    }

    /// `mask` resized into the target canvas per `geometry`, padding with background.
    public static func apply(_ mask: Mask, _ geometry: LetterboxGeometry, method: MaskResampling = .areaThreshold) -> Mask {
        let content = mask.resized(width: geometry.contentWidth, height: geometry.contentHeight, method: method)
        var canvas = Mask(width: geometry.targetWidth, height: geometry.targetHeight)
        for y in 0..<content.height {
            let dst = (y + geometry.offsetY) * canvas.width + geometry.offsetX
            canvas.pixels.replaceSubrange(dst..<(dst + content.width),
                                          with: content.pixels[(y * content.width)..<((y + 1) * content.width)])
        }
        return canvas
    }

    /// The inverse: crops the content area of a target-sized mask and resizes it back to the source size.
    public static func invert(_ mask: Mask, _ geometry: LetterboxGeometry,
                              method: MaskResampling = .nearest) throws -> Mask {
        let content = try crop(mask.pixels, width: mask.width, height: mask.height, geometry, what: "mask")
        return Mask(width: geometry.contentWidth, height: geometry.contentHeight, pixels: content)
            .resized(width: geometry.sourceWidth, height: geometry.sourceHeight, method: method)
    }

    /// The inverse for a probability map (e.g. a network's sigmoid output), resized bilinearly.
    public static func invert(_ map: GrayImage, _ geometry: LetterboxGeometry) throws -> GrayImage {
        let content = try crop(map.pixels, width: map.width, height: map.height, geometry, what: "map")
        return GrayImage(width: geometry.contentWidth, height: geometry.contentHeight, pixels: content)
            .resized(width: geometry.sourceWidth, height: geometry.sourceHeight, method: .bilinear)
    }

    /// The content rows of a target-sized, row-major plane.
    private static func crop<P>(_ pixels: [P], width: Int, height: Int, _ geometry: LetterboxGeometry,
                                what: String) throws -> [P] {
        guard width == geometry.targetWidth, height == geometry.targetHeight else {
            throw ImageError.incompatible("\(what) is \(width)×\(height) but the letterbox target is "
                + "\(geometry.targetWidth)×\(geometry.targetHeight)")
        }
        var content: [P] = []
        content.reserveCapacity(geometry.contentWidth * geometry.contentHeight)
        for y in 0..<geometry.contentHeight {
            let src = (y + geometry.offsetY) * width + geometry.offsetX
            content += pixels[src..<(src + geometry.contentWidth)]
        }
        return content
    }
}
