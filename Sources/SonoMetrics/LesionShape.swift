import Foundation
import SonoImaging

/// The shape and acoustic signs a radiologist reads to call a lesion suspicious (BI-RADS lexicon): orientation
/// (taller than wide), round vs irregular outline, spiculated margins, and posterior shadowing. Measured on the
/// largest region of a lesion mask and the image it outlines.
public struct LesionShape: Codable, Sendable, Equatable {
    /// log(height / width) of the region's extent: above 0, taller than wide.
    public var logTallerThanWide: Double
    /// 4π·area / perimeter² (1: a disc; irregular or lobulated outlines score lower).
    public var circularity: Double
    /// area / convex-hull area (1: convex; angular or spiculated margins score lower).
    public var solidity: Double
    /// log of the mean intensity below the lesion over the mean at the same depth beside it: below 0, the
    /// lesion casts a shadow (malignant sign); above 0, posterior enhancement (cysts).
    public var posteriorShadow: Double

    public static let names = ["logTallerThanWide", "circularity", "solidity", "posteriorShadow"]
    public var vector: [Double] { [logTallerThanWide, circularity, solidity, posteriorShadow] }

    /// nil when the mask is empty or the region is a single row or column.
    public init?(image: GrayImage, mask: Mask) {
        precondition(image.width == mask.width && image.height == mask.height, "LesionShape: image and mask sizes differ")
        let region = mask.largestComponent()
        let w = region.width, h = region.height
        var (x0, y0, x1, y1, area) = (Int.max, Int.max, Int.min, Int.min, 0)
        var edges = 0
        var hullPoints: [(Double, Double)] = []
        for y in 0..<h {
            for x in 0..<w where region.pixels[y * w + x] != 0 {
                area += 1
                (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x), max(y1, y))
                // outline length: pixel sides facing the background (4-neighbour crack length)
                var exposed = 0
                for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                    let nx = x + dx, ny = y + dy
                    if nx < 0 || ny < 0 || nx >= w || ny >= h || region.pixels[ny * w + nx] == 0 { exposed += 1 }
                }
                edges += exposed
                if exposed > 0 {
                    for (cx, cy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] { hullPoints.append((Double(x) + cx, Double(y) + cy)) }
                }
            }
        }
        guard area > 0, x1 > x0, y1 > y0 else { return nil }
        logTallerThanWide = log(Double(y1 - y0 + 1) / Double(x1 - x0 + 1))
        // crack length overestimates a smooth outline by ~4/π; correct so a large disc scores near 1
        let perimeter = Double(edges) * Double.pi / 4
        circularity = min(1, 4 * Double.pi * Double(area) / (perimeter * perimeter))
        solidity = min(1, Double(area) / max(Self.hullArea(hullPoints), 1))
        // posterior band: below the lesion, half its height deep; reference bands beside it at the same depth
        let bandTop = y1 + 1, bandBottom = min(h - 1, y1 + max(2, (y1 - y0 + 1) / 2))
        let side = max(2, (x1 - x0 + 1) / 2)
        func mean(_ xs: ClosedRange<Int>) -> Double? {
            guard bandTop <= bandBottom else { return nil }
            var s = 0.0, n = 0
            for y in bandTop...bandBottom { for x in xs where x >= 0 && x < w { s += Double(image.pixels[y * w + x]); n += 1 } }
            return n > 0 ? s / Double(n) : nil
        }
        let below = mean(x0...x1)
        let beside = [mean((x0 - side)...(x0 - 1)), mean((x1 + 1)...(x1 + side))].compactMap { $0 }
        if let below, !beside.isEmpty {
            posteriorShadow = log((below + 1e-3) / (beside.reduce(0, +) / Double(beside.count) + 1e-3))
        } else {
            posteriorShadow = 0   // the lesion reaches the bottom or the sides: no band to compare
        }
    }

    /// Area of the convex hull of `points` (Andrew's monotone chain, then the shoelace formula).
    static func hullArea(_ points: [(Double, Double)]) -> Double {
        let p = points.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        guard p.count >= 3 else { return 0 }
        func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        var hull: [(Double, Double)] = []
        for q in p {   // lower chain
            while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], q) <= 0 { hull.removeLast() }
            hull.append(q)
        }
        let lower = hull.count + 1
        for q in p.reversed().dropFirst() {   // upper chain, never popping into the lower one
            while hull.count >= lower && cross(hull[hull.count - 2], hull[hull.count - 1], q) <= 0 { hull.removeLast() }
            hull.append(q)
        }
        hull.removeLast()   // the first point again
        var area = 0.0
        for i in 0..<hull.count { let a = hull[i], b = hull[(i + 1) % hull.count]; area += a.0 * b.1 - b.0 * a.1 }
        return abs(area) / 2
    }
}
