import Foundation

/// Boundary-to-boundary distances between a predicted and a ground-truth mask.
///
/// For every boundary pixel of each mask (see `MaskBoundary`), the Euclidean distance between its centre and
/// the nearest boundary pixel centre of the other mask; both directions are pooled into one list of
/// |∂P| + |∂G| distances. Units: pixels, or millimetres when a `PixelSpacing` is given.
public struct SurfaceDistances: Codable, Sendable, Equatable {
    /// 95th percentile of the pooled distances (linear interpolation, as `numpy.percentile` and MedPy's
    /// `hd95`, which also pools both directions).
    public var hd95: Double
    /// Average symmetric surface distance: (Σ d(∂P→∂G) + Σ d(∂G→∂P)) / (|∂P| + |∂G|), the pooled mean of
    /// Heimann et al. 2009. (MedPy's `assd` instead averages the two directed means; the two differ only when
    /// the contours have different lengths.)
    public var assd: Double

    public init(hd95: Double, assd: Double) {
        (self.hd95, self.assd) = (hd95, assd)
    }

    /// Distances between `prediction` and `truth` (row-major foreground flags). Both masks empty: 0 and 0 (the
    /// surfaces agree). Exactly one empty: nil, because there is no surface to measure to; report it as missing
    /// rather than as an infinite or image-size penalty.
    public static func between(prediction: [Bool], truth: [Bool], width: Int, height: Int,
                               spacing: PixelSpacing? = nil) -> SurfaceDistances? {
        let predictedBoundary = MaskBoundary.boundary(of: prediction, width: width, height: height)
        let truthBoundary = MaskBoundary.boundary(of: truth, width: width, height: height)
        let predictedEmpty = !predictedBoundary.contains(true), truthEmpty = !truthBoundary.contains(true)
        if predictedEmpty && truthEmpty { return SurfaceDistances(hd95: 0, assd: 0) }
        if predictedEmpty || truthEmpty { return nil }

        // Both surfaces lie in their joint bounding box, and the nearest-surface distance of a point in the box is
        // a minimum over surface pixels only, so the transforms can run on that crop (often a small part of the
        // image) without changing any distance.
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where predictedBoundary[y * width + x] || truthBoundary[y * width + x] {
                minX = Swift.min(minX, x); maxX = Swift.max(maxX, x)
                minY = Swift.min(minY, y); maxY = Swift.max(maxY, y)
            }
        }
        let cropWidth = maxX - minX + 1, cropHeight = maxY - minY + 1
        var cropPrediction = [Bool](repeating: false, count: cropWidth * cropHeight)
        var cropTruth = cropPrediction
        for y in 0..<cropHeight {
            for x in 0..<cropWidth {
                let source = (y + minY) * width + x + minX
                cropPrediction[y * cropWidth + x] = predictedBoundary[source]
                cropTruth[y * cropWidth + x] = truthBoundary[source]
            }
        }

        // Two transforms, one per surface, each sampled on the other surface: O(pixels), not O(|∂P|·|∂G|).
        let toTruth = EuclideanDistanceTransform.squaredDistances(features: cropTruth, width: cropWidth,
                                                                  height: cropHeight, spacing: spacing)
        let toPrediction = EuclideanDistanceTransform.squaredDistances(features: cropPrediction, width: cropWidth,
                                                                       height: cropHeight, spacing: spacing)
        var distances = [Double]()
        for i in 0..<cropPrediction.count {
            if cropPrediction[i] { distances.append(toTruth[i].squareRoot()) }
            if cropTruth[i] { distances.append(toPrediction[i].squareRoot()) }
        }
        distances.sort()
        let total = distances.reduce(0, +)
        return SurfaceDistances(hd95: Quantile.linear(sorted: distances, 0.95)!,
                                assd: total / Double(distances.count))
    }
}
