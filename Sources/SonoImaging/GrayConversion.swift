/// An image reduced to one grey channel by ITU-R BT.601 luminance (0.299 R + 0.587 G + 0.114 B), alpha
/// dropped. `channelsDiffered` tells whether an RGB source had colour (e.g. coloured calliper marks), i.e.
/// whether the conversion lost information; grey sources and RGB with R = G = B report false.
public struct GrayConversion: Sendable {
    public var image: GrayImage
    public var channelsDiffered: Bool

    public init(_ source: Image) {
        let w = source.width, h = source.height, c = source.channels
        var out = [Float](repeating: 0, count: w * h)
        var differed = false
        switch (source.pixels, c) {
        case let (.uint8(values), 1), let (.uint8(values), 2):
            for i in 0..<(w * h) { out[i] = Float(values[i * c]) * (1 / 255) }
        case let (.float(values), 1), let (.float(values), 2):
            for i in 0..<(w * h) { out[i] = values[i * c] }
        case let (.uint8(values), _):
            for i in 0..<(w * h) {
                let r = values[i * c], g = values[i * c + 1], b = values[i * c + 2]
                if r != g || g != b { differed = true }
                out[i] = (0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)) * (1 / 255)
            }
        case let (.float(values), _):
            for i in 0..<(w * h) {
                let r = values[i * c], g = values[i * c + 1], b = values[i * c + 2]
                if r != g || g != b { differed = true }
                out[i] = 0.299 * r + 0.587 * g + 0.114 * b
            }
        }
        image = GrayImage(width: w, height: h, pixels: out)
        channelsDiffered = differed
    }
}

extension Image {
    /// The same image without its alpha channel (grey+alpha → grey, RGBA → RGB).
    public func droppingAlpha() -> Image {
        guard hasAlpha else { return self }
        let kept = channels - 1
        let n = width * height
        switch pixels {
        case let .uint8(values):
            var out = [UInt8](repeating: 0, count: n * kept)
            for i in 0..<n { for k in 0..<kept { out[i * kept + k] = values[i * channels + k] } }
            return Image(width: width, height: height, channels: kept, pixels: .uint8(out), sourceBitDepth: sourceBitDepth)
        case let .float(values):
            var out = [Float](repeating: 0, count: n * kept)
            for i in 0..<n { for k in 0..<kept { out[i * kept + k] = values[i * channels + k] } }
            return Image(width: width, height: height, channels: kept, pixels: .float(out), sourceBitDepth: sourceBitDepth)
        }
    }

    /// Grey by BT.601 luminance; see `GrayConversion`.
    public func toGray() -> GrayImage { GrayConversion(self).image }
}
