/// A single-channel float image, row-major (`y * width + x`). Values are in [0, 1] as decoded; after
/// intensity normalisation (z-score) they may leave that range.
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height, "pixel count does not match width×height")
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// A constant image.
    public init(width: Int, height: Int, value: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: value, count: width * height))
    }

    @inline(__always)
    public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// As an 8-bit grey `Image`, clamping to [0, 1] and rounding.
    public func toImage() -> Image {
        let bytes = pixels.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
        return Image(width: width, height: height, channels: 1, pixels: .uint8(bytes))
    }
}
