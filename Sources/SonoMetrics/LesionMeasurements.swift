import Foundation
import SonoImaging

/// Size, extent and shape of the lesion in a binary mask (the summary of `sonoseg segment`).
///
/// Positions are pixel centres: pixel (x, y) sits at (x, y) in pixel units, or (x·spacing.x, y·spacing.y) in
/// millimetres.
public struct LesionMeasurements: Codable, Sendable, Equatable {
    /// Axis-aligned box around all lesion pixels, inclusive origin, sizes in pixels.
    public struct BoundingBox: Codable, Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int

        public init(x: Int, y: Int, width: Int, height: Int) {
            (self.x, self.y, self.width, self.height) = (x, y, width, height)
        }
    }

    public var width: Int
    public var height: Int
    public var spacing: PixelSpacing?
    /// Lesion pixels.
    public var areaPixels: Int
    /// Lesion area in mm² (nil without spacing).
    public var areaMM2: Double?
    /// nil for an empty mask.
    public var boundingBox: BoundingBox?
    /// Largest distance between two lesion pixel centres, in pixels (so a w × h rectangle measures
    /// √((w−1)² + (h−1)²) and a single pixel 0); 0 for an empty mask. Over all components.
    public var maxDiameterPixels: Double
    /// The same in millimetres (nil without spacing); with anisotropic pixels it may join a different pair.
    public var maxDiameterMM: Double?
    /// Direction of the major axis of the lesion pixels' second central moments, in degrees counter-clockwise
    /// from the image's x axis as displayed (rows run downward, so "up" on screen is positive), in [0, 180):
    /// 0 for a lesion wider than tall, 90 for one taller than wide. Computed in millimetres when spacing is known.
    /// nil for an empty mask or when the moments are isotropic (a disc or square has no major axis).
    public var orientationDegrees: Double?
    /// The long axis as a radiologist draws it: the two lesion pixel centres farthest apart (x1, y1, x2, y2,
    /// the pair `maxDiameterPixels` measures); nil for an empty mask.
    public var longAxis: [Int]? = nil
    /// The short axis: the longest chord of lesion pixels perpendicular to the long axis (pixel centres binned
    /// by their position along the long axis; within one bin, the span across it), as x1, y1, x2, y2 in pixel
    /// coordinates, and its length (0 for a lesion one pixel wide). nil / 0 for an empty mask.
    public var shortAxis: [Double]? = nil
    public var shortAxisPixels: Double = 0
    public var shortAxisMM: Double? = nil
    /// Depth of the lesion below the skin line, taken as the top row of the image: the distance from row 0 to
    /// the lesion's topmost pixel centre (pixels, and mm with spacing). nil for an empty mask.
    public var depthPixels: Double? = nil
    public var depthMM: Double? = nil
    /// Height over width of the lesion's bounding extent (pixel centres; in mm with spacing): above 1, the
    /// lesion is "taller than wide", a BI-RADS sign of malignancy. nil for an empty or one-pixel-wide mask.
    public var tallerThanWide: Double? = nil
    /// Connected lesion regions.
    public var componentCount: Int
    /// Neighbourhood used to count components.
    public var connectivity: Connectivity

    /// Measures `mask` (row-major, nonzero = lesion).
    public init(mask: [UInt8], width: Int, height: Int, spacing: PixelSpacing? = nil,
                connectivity: Connectivity = .eight) throws {
        try MetricsError.checkSize(mask.count, width: width, height: height, "mask")
        let binary = Mask(width: width, height: height, pixels: mask.map { $0 != 0 ? 1 : 0 })
        self.init(binary: binary, spacing: spacing, connectivity: connectivity)
    }

    /// Measures a `Mask` of the imaging layer.
    public init(mask: Mask, spacing: PixelSpacing? = nil, connectivity: Connectivity = .eight) {
        self.init(binary: mask, spacing: spacing, connectivity: connectivity)
    }

    private init(binary mask: Mask, spacing: PixelSpacing?, connectivity: Connectivity) {
        let w = mask.width, h = mask.height
        let sx = spacing?.x ?? 1, sy = spacing?.y ?? 1
        var area = 0
        var minX = Int.max, minY = Int.max, maxX = Int.min, maxY = Int.min
        var sumX = 0.0, sumY = 0.0
        for y in 0..<h {
            for x in 0..<w where mask.pixels[y * w + x] != 0 {
                area += 1
                minX = Swift.min(minX, x); maxX = Swift.max(maxX, x)
                minY = Swift.min(minY, y); maxY = Swift.max(maxY, y)
                sumX += Double(x)
                sumY += Double(y)
            }
        }
        width = w
        height = h
        (self.spacing, self.connectivity) = (spacing, connectivity)
        areaPixels = area
        areaMM2 = spacing.map { Double(area) * $0.pixelArea }
        componentCount = area == 0 ? 0 : ConnectedComponents(mask, connectivity: connectivity).count
        guard area > 0 else {
            boundingBox = nil
            maxDiameterPixels = 0
            maxDiameterMM = spacing == nil ? nil : 0
            orientationDegrees = nil
            return
        }
        boundingBox = BoundingBox(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)

        // The farthest pair of pixels are hull vertices, and hull vertices are boundary pixels: O(boundary) points
        // into the hull, then O(hull²) pairs (a few hundred vertices at most on a 256 × 256 grid).
        let foreground = mask.pixels.map { $0 != 0 }
        let boundary = MaskBoundary.boundary(of: foreground, width: w, height: h)
        var points = [ConvexHull.Point]()
        for i in 0..<boundary.count where boundary[i] { points.append(ConvexHull.Point(x: i % w, y: i / w)) }
        let hull = ConvexHull.hull(points)
        var farthestPixels = 0, farthestMM = 0.0, ends = (hull[0], hull[0])
        for i in 0..<hull.count {
            for j in (i + 1)..<Swift.max(i + 1, hull.count) {
                let dx = hull[i].x - hull[j].x, dy = hull[i].y - hull[j].y
                if dx * dx + dy * dy > farthestPixels { (farthestPixels, ends) = (dx * dx + dy * dy, (hull[i], hull[j])) }
                let mx = Double(dx) * sx, my = Double(dy) * sy
                farthestMM = Swift.max(farthestMM, mx * mx + my * my)
            }
        }
        maxDiameterPixels = Double(farthestPixels).squareRoot()
        maxDiameterMM = spacing == nil ? nil : farthestMM.squareRoot()
        longAxis = [ends.0.x, ends.0.y, ends.1.x, ends.1.y]
        depthPixels = Double(minY)
        depthMM = spacing.map { Double(minY) * $0.y }
        let (tall, wide) = (Double(maxY - minY) * sy, Double(maxX - minX) * sx)
        tallerThanWide = wide > 0 ? tall / wide : nil
        measureShortAxis(mask, along: ends, sx: sx, sy: sy)

        // Second central moments in physical units, y flipped to point up on screen.
        let meanX = sumX / Double(area), meanY = sumY / Double(area)
        var mu20 = 0.0, mu02 = 0.0, mu11 = 0.0
        for y in 0..<h {
            for x in 0..<w where mask.pixels[y * w + x] != 0 {
                let dx = (Double(x) - meanX) * sx, dy = -(Double(y) - meanY) * sy
                mu20 += dx * dx
                mu02 += dy * dy
                mu11 += dx * dy
            }
        }
        let anisotropy = ((mu20 - mu02) * (mu20 - mu02) + 4 * mu11 * mu11).squareRoot()
        if anisotropy <= 1e-9 * (mu20 + mu02) {
            orientationDegrees = nil
        } else {
            var degrees = 0.5 * atan2(2 * mu11, mu20 - mu02) * 180 / Double.pi
            if degrees < 0 { degrees += 180 }
            if degrees >= 180 { degrees -= 180 }
            orientationDegrees = degrees
        }
    }

    /// The longest chord perpendicular to the long axis `ends`: pixel centres binned by their rounded position
    /// along the axis (one-pixel bins); in each bin the two extremes across it.
    private mutating func measureShortAxis(_ mask: Mask, along ends: (ConvexHull.Point, ConvexHull.Point), sx: Double, sy: Double) {
        let ax = Double(ends.1.x - ends.0.x), ay = Double(ends.1.y - ends.0.y), length = (ax * ax + ay * ay).squareRoot()
        guard length > 0 else { shortAxis = [Double(ends.0.x), Double(ends.0.y), Double(ends.0.x), Double(ends.0.y)]; return }
        let (ux, uy) = (ax / length, ay / length)          // along the long axis
        let (ox, oy) = (Double(ends.0.x), Double(ends.0.y))
        var lowest: [Int: (Double, Int, Int)] = [:], highest: [Int: (Double, Int, Int)] = [:]
        for y in 0..<mask.height {
            for x in 0..<mask.width where mask.pixels[y * mask.width + x] != 0 {
                let dx = Double(x) - ox, dy = Double(y) - oy
                let bin = Int((dx * ux + dy * uy).rounded()), across = -dx * uy + dy * ux
                if lowest[bin].map({ across < $0.0 }) ?? true { lowest[bin] = (across, x, y) }
                if highest[bin].map({ across > $0.0 }) ?? true { highest[bin] = (across, x, y) }
            }
        }
        var best: (span: Double, a: (Double, Int, Int), b: (Double, Int, Int))?
        for (bin, lo) in lowest {
            let hi = highest[bin]!
            if hi.0 - lo.0 > (best?.span ?? -1) { best = (hi.0 - lo.0, lo, hi) }
        }
        guard let best else { return }
        // The chord's ends on the perpendicular line through the bin's centre, as a radiologist's calipers sit.
        let bin = (Double(best.a.1) - ox) * ux + (Double(best.a.2) - oy) * uy
        let cx = ox + bin.rounded() * ux, cy = oy + bin.rounded() * uy
        shortAxis = [cx - best.a.0 * uy, cy + best.a.0 * ux, cx - best.b.0 * uy, cy + best.b.0 * ux]
        shortAxisPixels = best.span
        if spacing != nil {
            let dx = (shortAxis![2] - shortAxis![0]) * sx, dy = (shortAxis![3] - shortAxis![1]) * sy
            shortAxisMM = (dx * dx + dy * dy).squareRoot()
        }
    }
}
