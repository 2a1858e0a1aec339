/// A mask decoded from an image file: grey by luminance, lesion where grey > 0.5. `isBinary` is false when
/// the file held values other than black and the brightest value present (anti-aliased or JPEG masks), which
/// the dataset inspector reports.
public struct MaskReading: Sendable {
    public var mask: Mask
    public var isBinary: Bool
    /// Number of distinct grey levels in the file, counted up to 3 (1 for an empty mask, 2 for a clean
    /// binary mask, 3 meaning "3 or more").
    public var distinctLevels: Int

    public init(_ source: Image) {
        let grey = source.toGray()
        // Up to three distinct levels is all the binary check needs; a fixed array keeps this loop cheap
        // (a Set insert per pixel dominated loader profiles).
        var levels = [Float](), out = [UInt8](repeating: 0, count: grey.pixels.count)
        grey.pixels.withUnsafeBufferPointer { values in
            for i in 0..<values.count {
                let v = values[i]
                if v > 0.5 { out[i] = 1 }
                if levels.count < 3 && !levels.contains(v) { levels.append(v) }
            }
        }
        mask = Mask(width: grey.width, height: grey.height, pixels: out)
        distinctLevels = levels.count
        isBinary = levels.count == 1 || (levels.count == 2 && levels.contains(0))
    }
}
