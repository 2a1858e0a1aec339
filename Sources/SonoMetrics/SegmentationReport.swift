/// Evaluation of one model on a set of images: a row per image and the aggregates.
///
/// Aggregates are kept for three sets, because papers differ on whether normal images count:
/// `lesion` (ground truth non-empty; the usual basis of DSC/Jaccard tables), `all` (every image), and
/// `normal` (ground truth empty), which is reported by false-positive area instead of overlap.
public struct SegmentationReport: Codable, Sendable, Equatable {
    /// One image's metrics.
    public struct Row: Codable, Sendable, Equatable {
        /// Image identifier (file stem or dataset id).
        public var id: String
        public var metrics: SegmentationMetrics

        public init(id: String, metrics: SegmentationMetrics) {
            (self.id, self.metrics) = (id, metrics)
        }
    }

    /// Which images an aggregate covers.
    public enum Scope: String, Codable, Sendable {
        /// Images whose ground truth contains a lesion.
        case lesion
        /// Every image.
        case all
    }

    public var rows: [Row]
    public var bootstrap: BootstrapSettings
    /// Over images with a lesion in the ground truth.
    public var lesion: SegmentationAggregate
    /// Over every image.
    public var all: SegmentationAggregate
    /// Over images with an empty ground truth.
    public var normal: NormalImageSummary

    public init(rows: [Row], bootstrap: BootstrapSettings = BootstrapSettings()) {
        (self.rows, self.bootstrap) = (rows, bootstrap)
        let metrics = rows.map(\.metrics)
        lesion = SegmentationAggregate(metrics.filter { !$0.truthIsEmpty }, bootstrap: bootstrap,
                                       streamPrefix: "lesion/")
        all = SegmentationAggregate(metrics, bootstrap: bootstrap, streamPrefix: "all/")
        normal = NormalImageSummary(metrics, bootstrap: bootstrap)
    }

    public func aggregate(_ scope: Scope) -> SegmentationAggregate {
        switch scope {
        case .lesion: return lesion
        case .all: return all
        }
    }
}
