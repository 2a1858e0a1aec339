import Foundation
import SonoImaging

/// Size and shape of the predicted lesion (all components together).
struct LesionMeasurement {
    var area: Int
    var areaMM2: Double?
    var maxDiameter: Double
    var maxDiameterMM: Double?
    var boundingBox: [Int]
    var orientation: Double?
    var components: Int
}

/// Area, bounding box, maximum diameter (largest distance between boundary pixels' centres, +1 pixel for their
/// extent), major-axis orientation from second moments, component count.
func measureLesion(_ mask: Mask, spacing: Double?) -> LesionMeasurement {
    let w = mask.width, h = mask.height
    var area = 0, minX = w, minY = h, maxX = -1, maxY = -1
    var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
    var boundary: [(Double, Double)] = []
    for y in 0..<h {
        for x in 0..<w where mask.pixels[y * w + x] == 1 {
            area += 1
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            let fx = Double(x), fy = Double(y)
            sx += fx; sy += fy; sxx += fx * fx; syy += fy * fy; sxy += fx * fy
            let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || mask.pixels[y * w + x - 1] == 0 ||
                mask.pixels[y * w + x + 1] == 0 || mask.pixels[(y - 1) * w + x] == 0 || mask.pixels[(y + 1) * w + x] == 0
            if edge { boundary.append((fx, fy)) }
        }
    }
    guard area > 0 else {
        return LesionMeasurement(area: 0, areaMM2: spacing.map { _ in 0 }, maxDiameter: 0, maxDiameterMM: spacing.map { _ in 0 },
                                 boundingBox: [], orientation: nil, components: 0)
    }
    let hull = convexHull(boundary)
    var best = 0.0
    for i in 0..<hull.count { for j in (i + 1)..<max(hull.count, i + 1) {
        let dx = hull[i].0 - hull[j].0, dy = hull[i].1 - hull[j].1
        best = max(best, dx * dx + dy * dy)
    } }
    let diameter = best.squareRoot() + 1
    let n = Double(area)
    let cxx = sxx / n - (sx / n) * (sx / n), cyy = syy / n - (sy / n) * (sy / n), cxy = sxy / n - (sx / n) * (sy / n)
    let angle = 0.5 * atan2(2 * cxy, cxx - cyy) * 180 / Double.pi
    return LesionMeasurement(area: area, areaMM2: spacing.map { n * $0 * $0 }, maxDiameter: diameter,
                             maxDiameterMM: spacing.map { diameter * $0 }, boundingBox: [minX, minY, maxX - minX + 1, maxY - minY + 1],
                             orientation: angle, components: ConnectedComponents(mask).count)
}

/// Andrew's monotone chain.
func convexHull(_ points: [(Double, Double)]) -> [(Double, Double)] {
    let p = points.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    if p.count < 3 { return p }
    func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    }
    var lower: [(Double, Double)] = [], upper: [(Double, Double)] = []
    for q in p { while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], q) <= 0 { lower.removeLast() }; lower.append(q) }
    for q in p.reversed() { while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], q) <= 0 { upper.removeLast() }; upper.append(q) }
    return Array(lower.dropLast() + upper.dropLast())
}
