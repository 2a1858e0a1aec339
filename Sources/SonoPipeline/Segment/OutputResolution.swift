import Foundation
import SonoImaging

/// The size of the extra high-resolution mask `segment --resolution` writes: a factor of the input's size
/// ("4x") or an explicit size ("1024x768").
public enum OutputResolution: Codable, Sendable, Equatable {
    case factor(Int)
    case size(width: Int, height: Int)

    /// Parses "4x" or "WxH"; the error says what was expected.
    public init(parsing text: String) throws {
        let t = text.lowercased().trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("x"), let f = Int(t.dropLast()), (1...16).contains(f) { self = .factor(f); return }
        let parts = t.split(separator: "x").map { Int($0) }
        if parts.count == 2, let w = parts[0], let h = parts[1], (1...16_384).contains(w), (1...16_384).contains(h) {
            self = .size(width: w, height: h); return
        }
        throw PipelineError.invalidConfig("--resolution must be a factor 1x-16x (e.g. 4x) or WxH up to 16384 (e.g. 1024x768), got '\(text)'")
    }

    /// The output size for an image of `width` × `height`.
    public func size(width: Int, height: Int) -> (width: Int, height: Int) {
        switch self {
        case let .factor(f): return (width * f, height * f)
        case let .size(w, h): return (w, h)
        }
    }
}

/// STEM_prob_hires.png, STEM_mask_hires.png and STEM_overlay_hires.png: the probability at the high
/// resolution, its mask, and the mask's outline on the image resized bilinearly to that size.
func writeHighResolution(probability: GrayImage, image: GrayImage, stem: String, threshold: Float, postprocessing: MaskPostprocessing,
                         out: URL) throws {
    let mask = postprocessing.mask(from: probability, threshold: threshold)
    try ImageIO.writePNG(probability, to: out.appendingPathComponent("\(stem)_prob_hires.png"))
    try ImageIO.writePNG(mask, to: out.appendingPathComponent("\(stem)_mask_hires.png"))
    let background = image.resized(width: probability.width, height: probability.height)
    try ImageIO.writePNG(try Overlay.render(background, mask: mask), to: out.appendingPathComponent("\(stem)_overlay_hires.png"))
}
