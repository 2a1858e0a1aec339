/// A mask decoded from an image file: grey by luminance, lesion where grey > 0.5. `isBinary` is false when
/// the file held values other than black and the brightest value present (anti-aliased or JPEG masks), which
/// the dataset inspector reports.
public struct MaskReading: Sendable {
    public var mask: Mask
    public var isBinary: Bool
    /// Number of distinct grey levels in the file (1 for an empty mask, 2 for a clean binary mask).
    public var distinctLevels: Int

    public init(_ source: Image) {
        let grey = source.toGray()
        var seen = Set<Float>()
        var out = [UInt8](repeating: 0, count: grey.pixels.count)
        for (i, v) in grey.pixels.enumerated() {
            if seen.count <= 2 { seen.insert(v) }
            out[i] = v > 0.5 ? 1 : 0
        }
        mask = Mask(width: grey.width, height: grey.height, pixels: out)
        distinctLevels = seen.count
        isBinary = seen.count <= 2 && seen.allSatisfy { $0 == 0 || $0 == seen.max() } && (seen.count == 1 || seen.contains(0))
    }
}
