/// A binary segmentation mask, row-major (`y * width + x`), each pixel 0 (background) or 1 (lesion).
public struct Mask: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "pixel count does not match width×height")
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// An empty (all background) mask.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height))
    }

    @inline(__always)
    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Number of lesion pixels.
    public var area: Int { pixels.reduce(0) { $0 + Int($1) } }

    /// Lesion pixels as a fraction of all pixels, in [0, 1].
    public var areaFraction: Double { pixels.isEmpty ? 0 : Double(area) / Double(pixels.count) }

    public var isEmpty: Bool { !pixels.contains(1) }

    /// Pixel-wise union; used to merge one-lesion-per-file masks (BUSI `_mask_1`, `_mask_2`).
    public func union(_ other: Mask) throws -> Mask {
        guard other.width == width, other.height == height else {
            throw ImageError.incompatible("mask sizes differ: \(width)×\(height) vs \(other.width)×\(other.height)")
        }
        var result = self
        for i in result.pixels.indices where other.pixels[i] != 0 { result.pixels[i] = 1 }
        return result
    }

    /// As an 8-bit grey `Image` with lesion = 255 (how masks are stored on disk).
    public func toImage() -> Image {
        Image(width: width, height: height, channels: 1, pixels: .uint8(pixels.map { $0 != 0 ? 255 : 0 }))
    }

    /// As floats 0/1.
    public func toGray() -> GrayImage {
        GrayImage(width: width, height: height, pixels: pixels.map { Float($0) })
    }
}
