/// An 8-bit RGB colour.
public struct RGB: Codable, Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let green = RGB(0, 255, 0)
    public static let red = RGB(255, 0, 0)
    public static let yellow = RGB(255, 255, 0)
}

public enum Overlay {
    /// The grey image as RGB with each mask's outline drawn in its colour (later masks on top), e.g. the
    /// ground truth in green and the prediction in red. Masks must match the image size.
    public static func render(_ image: GrayImage, outlines: [(mask: Mask, colour: RGB)],
                              thickness: Int = 2) throws -> Image {
        let n = image.width * image.height
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            let v = UInt8(max(0, min(255, (image.pixels[i] * 255).rounded())))
            rgb[i * 3] = v; rgb[i * 3 + 1] = v; rgb[i * 3 + 2] = v
        }
        for (mask, colour) in outlines {
            guard mask.width == image.width, mask.height == image.height else {
                throw ImageError.incompatible("overlay mask is \(mask.width)×\(mask.height) but the image is "
                    + "\(image.width)×\(image.height)")
            }
            let edge = mask.outline(thickness: thickness)
            for i in 0..<n where edge.pixels[i] != 0 {
                rgb[i * 3] = colour.r; rgb[i * 3 + 1] = colour.g; rgb[i * 3 + 2] = colour.b
            }
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: .uint8(rgb))
    }

    /// One outline in green.
    public static func render(_ image: GrayImage, mask: Mask, colour: RGB = .green, thickness: Int = 2) throws -> Image {
        try render(image, outlines: [(mask, colour)], thickness: thickness)
    }
}
