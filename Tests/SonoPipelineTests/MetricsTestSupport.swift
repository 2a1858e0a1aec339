@testable import SonoPipeline

/// Small mask builders shared by the metrics tests.
enum Grid {
    /// A width × height 0/1 mask with the axis-aligned rectangle [x0, x0 + w) × [y0, y0 + h) set.
    static func rectangle(width: Int, height: Int, x0: Int, y0: Int, w: Int, h: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: width * height)
        for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { mask[y * width + x] = 1 } }
        return mask
    }

    /// 0/1 mask → probabilities exactly 0 or 1.
    static func probabilities(_ mask: [UInt8]) -> [Float] { mask.map { Float($0) } }

    /// Parses rows of "#" (1) and "." (0).
    static func parse(_ rows: [String]) -> [UInt8] {
        rows.flatMap { $0.map { $0 == "#" ? UInt8(1) : 0 } }
    }
}
