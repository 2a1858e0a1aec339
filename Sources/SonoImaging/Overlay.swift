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

extension Image {
    /// `mask`'s outline (2 pixels wide) in `colour`; `dashed` draws 4-pixel dashes (a candidate, not a finding).
    /// RGB images of the mask's size only.
    public mutating func drawOutline(_ mask: Mask, colour: RGB, dashed: Bool = false) {
        guard channels == 3, mask.width == width, mask.height == height, case var .uint8(p) = pixels else { return }
        let edge = mask.outline(thickness: 2)
        for i in 0..<(width * height) where edge.pixels[i] != 0 {
            if dashed && ((i % width) / 4 + (i / width) / 4) % 2 == 1 { continue }
            p[i * 3] = colour.r; p[i * 3 + 1] = colour.g; p[i * 3 + 2] = colour.b
        }
        pixels = .uint8(p)
    }

    /// A 2-pixel-wide straight line between two points (pixel coordinates) in `colour`, clipped to the image;
    /// RGB images only.
    public mutating func drawLine(from a: (Double, Double), to b: (Double, Double), colour: RGB) {
        guard channels == 3, case var .uint8(p) = pixels else { return }
        let steps = Int(max(abs(b.0 - a.0), abs(b.1 - a.1)).rounded(.up)) + 1
        for k in 0...steps {
            let t = Double(k) / Double(max(steps, 1))
            let x = Int((a.0 + (b.0 - a.0) * t).rounded()), y = Int((a.1 + (b.1 - a.1) * t).rounded())
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let px = x + dx, py = y + dy
                guard px >= 0, py >= 0, px < width, py < height else { continue }
                let i = (py * width + px) * 3
                p[i] = colour.r; p[i + 1] = colour.g; p[i + 2] = colour.b
            }
        }
        pixels = .uint8(p)
    }
}
