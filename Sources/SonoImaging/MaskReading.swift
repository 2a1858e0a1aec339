/// A mask decoded from an image file: lesion where the brightest colour channel is above half scale (alpha
/// ignored), or, for a label map whose values are all at most 15 (0/1 masks), wherever it is not 0. The brightest channel rather than luminance, so that coloured masks count whatever their colour
/// (BUS-UCLM marks malignant lesions in pure red, whose luminance is only 0.3). `isBinary` is false when
/// the file held values other than black and the brightest value present (anti-aliased or JPEG masks), which
/// the dataset inspector reports.
public struct MaskReading: Sendable {
    public var mask: Mask
    public var isBinary: Bool
    /// Number of distinct grey levels in the file, counted up to 3 (1 for an empty mask, 2 for a clean
    /// binary mask, 3 meaning "3 or more").
    public var distinctLevels: Int

    public init(_ source: Image) {
        let grey = Self.brightestChannel(source.droppingAlpha())
        // Up to three distinct levels is all the binary check needs; a fixed array keeps this loop cheap
        // (a Set insert per pixel dominated loader profiles).
        var levels = [Float](), out = [UInt8](repeating: 0, count: grey.pixels.count)
        // A label map (0/1, or small class numbers, as nnU-Net and many tools save masks) is nearly black: any
        // non-zero label is lesion. Otherwise the file is a picture of a mask: lesion above half scale.
        let brightest = grey.pixels.max() ?? 0
        let cut: Float = brightest > 0 && brightest <= Self.largestLabel / 255 ? 0 : 0.5
        grey.pixels.withUnsafeBufferPointer { values in
            for i in 0..<values.count {
                let v = values[i]
                if v > cut { out[i] = 1 }
                if levels.count < 3 && !levels.contains(v) { levels.append(v) }
            }
        }
        mask = Mask(width: grey.width, height: grey.height, pixels: out)
        distinctLevels = levels.count
        isBinary = levels.count == 1 || (levels.count == 2 && levels.contains(0))
    }

    /// The highest value (on the 8-bit scale) a file may hold and still be read as a label map.
    static let largestLabel: Float = 15.5

    static func brightestChannel(_ image: Image) -> GrayImage {
        guard image.channels > 1 else { return image.toGray() }
        let n = image.width * image.height, c = image.channels
        var out = [Float](repeating: 0, count: n)
        switch image.pixels {
        case let .uint8(values):
            for i in 0..<n {
                var best: UInt8 = 0
                for k in 0..<c { best = max(best, values[i * c + k]) }
                out[i] = Float(best) * (1 / 255)
            }
        case let .float(values):
            for i in 0..<n {
                var best: Float = 0
                for k in 0..<c { best = max(best, values[i * c + k]) }
                out[i] = best
            }
        }
        return GrayImage(width: image.width, height: image.height, pixels: out)
    }
}
