/// Pixel samples of an `Image`, interleaved row-major (`(y * width + x) * channels + c`).
/// `uint8` holds 0...255; `float` holds [0, 1] (16-bit sources are kept this way, not rounded to 8 bit).
public enum PixelBuffer: Sendable, Equatable {
    case uint8([UInt8])
    case float([Float])

    /// `count` samples from `start`, of the same kind.
    func slice(_ start: Int, _ count: Int) -> PixelBuffer {
        switch self {
        case let .uint8(values): return .uint8(Array(values[start..<(start + count)]))
        case let .float(values): return .float(Array(values[start..<(start + count)]))
        }
    }

    public var count: Int {
        switch self {
        case let .uint8(values): return values.count
        case let .float(values): return values.count
        }
    }
}

/// A decoded image as stored in its file: `channels` is 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA).
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: PixelBuffer
    /// Bits per sample in the file (1, 2, 4, 8 or 16) before expansion; informative only.
    public var sourceBitDepth: Int

    public init(width: Int, height: Int, channels: Int, pixels: PixelBuffer, sourceBitDepth: Int = 8) {
        precondition(pixels.count == width * height * channels, "pixel count does not match width×height×channels")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
        self.sourceBitDepth = sourceBitDepth
    }

    /// Whether the last channel is alpha (grey+alpha or RGBA).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// Sample at (x, y, channel) scaled to [0, 1].
    @inline(__always)
    public func value(x: Int, y: Int, channel: Int) -> Float {
        let index = (y * width + x) * channels + channel
        switch pixels {
        case let .uint8(values): return Float(values[index]) * (1 / 255)
        case let .float(values): return values[index]
        }
    }

    /// Sample at (x, y, channel) as 0...255, rounding float samples.
    @inline(__always)
    public func byte(x: Int, y: Int, channel: Int) -> UInt8 {
        let index = (y * width + x) * channels + channel
        switch pixels {
        case let .uint8(values): return values[index]
        case let .float(values): return UInt8(max(0, min(255, (values[index] * 255).rounded())))
        }
    }
}
