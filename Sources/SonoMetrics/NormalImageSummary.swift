import SonoBase
/// How a model behaves on normal images (empty ground truth), where overlap metrics say little: every
/// predicted pixel is a false positive.
public struct NormalImageSummary: Codable, Sendable, Equatable {
    /// Normal images in the set.
    public var images: Int
    /// Normal images on which nothing was predicted.
    public var predictedEmpty: Int
    /// `predictedEmpty / images`, in [0, 1]; nil without normal images.
    public var fractionPredictedEmpty: Double?
    /// False-positive area per normal image, in pixels.
    public var falsePositivePixels: MetricSummary
    /// False-positive area per normal image, in mm²; images without a known spacing count as missing. nil when
    /// no normal image has one.
    public var falsePositiveAreaMM2: MetricSummary?

    /// Summarises the images of `metrics` whose ground truth is empty (others are ignored).
    public init(_ metrics: [SegmentationMetrics], bootstrap: BootstrapSettings = BootstrapSettings()) {
        let normal = metrics.filter(\.truthIsEmpty)
        images = normal.count
        predictedEmpty = normal.filter { $0.predictedPixels == 0 }.count
        fractionPredictedEmpty = normal.isEmpty ? nil : Double(predictedEmpty) / Double(normal.count)
        var rng = SplitMix64(seed: bootstrap.seed, label: "normal/fp_pixels")
        falsePositivePixels = MetricSummary(normal.map { Double($0.falsePositives) }, bootstrap: bootstrap,
                                            rng: &rng)
        let areas = normal.map(\.falsePositiveAreaMM2)
        if areas.contains(where: { $0 != nil }) {
            var areaRNG = SplitMix64(seed: bootstrap.seed, label: "normal/fp_mm2")
            falsePositiveAreaMM2 = MetricSummary(areas, bootstrap: bootstrap, rng: &areaRNG)
        } else {
            falsePositiveAreaMM2 = nil
        }
    }
}
