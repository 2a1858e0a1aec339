import Foundation

/// A rectangle of an image in pixels; it may reach past the frame, whose outside reads as 0 (the ultrasound
/// background).
public struct PixelBox: Codable, Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { (self.x, self.y, self.width, self.height) = (x, y, width, height) }

    public func contains(_ other: PixelBox) -> Bool {
        other.x >= x && other.y >= y && other.x + other.width <= x + width && other.y + other.height <= y + height
    }
    public func intersects(_ other: PixelBox) -> Bool {
        x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
    }
    /// This box grown by `d` pixels on every side.
    public func grown(by d: Int) -> PixelBox { PixelBox(x: x - d, y: y - d, width: width + 2 * d, height: height + 2 * d) }

    /// The box's pixels of `image` (0 outside the frame).
    public func apply(_ image: GrayImage) -> GrayImage {
        var out = GrayImage(width: width, height: height)
        copy(width: image.width, height: image.height) { out.pixels[$0] = image.pixels[$1] }
        return out
    }

    public func apply(_ mask: Mask) -> Mask {
        var out = Mask(width: width, height: height)
        copy(width: mask.width, height: mask.height) { out.pixels[$0] = mask.pixels[$1] }
        return out
    }

    /// A width × height mask with the box's pixels inside the frame set.
    public func mask(width frameWidth: Int, height frameHeight: Int) -> Mask {
        var out = Mask(width: frameWidth, height: frameHeight)
        let (x0, x1) = (min(frameWidth, max(0, x)), max(0, min(frameWidth, x + width)))
        for sy in min(frameHeight, max(0, y))..<max(0, min(frameHeight, y + height)) where x0 < x1 {
            for sx in x0..<x1 { out.pixels[sy * frameWidth + sx] = 1 }
        }
        return out
    }

    private func copy(width frameWidth: Int, height frameHeight: Int, _ assign: (_ to: Int, _ from: Int) -> Void) {
        let x0 = max(0, x), x1 = min(frameWidth, x + width)
        guard x0 < x1 else { return }
        for sy in max(0, y)..<max(max(0, y), min(frameHeight, y + height)) {
            for sx in x0..<x1 { assign((sy - y) * width + (sx - x), sy * frameWidth + sx) }
        }
    }
}

extension Mask {
    /// The bounding box of the set pixels; nil when there are none.
    public var boundingBox: PixelBox? {
        var (minX, minY, maxX, maxY) = (Int.max, Int.max, -1, -1)
        for y in 0..<height {
            for x in 0..<width where pixels[y * width + x] != 0 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return nil }
        return PixelBox(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }
}
