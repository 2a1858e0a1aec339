import SonoBase
/// Every segmentation metric summarised over a set of images (see `MetricSummary`).
public struct SegmentationAggregate: Codable, Sendable, Equatable, PerSegmentationMetric {
    /// Images in the set.
    public var images: Int
    public var dice: MetricSummary
    public var iou: MetricSummary
    public var precision: MetricSummary
    public var recall: MetricSummary
    public var specificity: MetricSummary
    public var accuracy: MetricSummary
    public var auc: MetricSummary
    public var rmse: MetricSummary
    public var hd95: MetricSummary
    public var assd: MetricSummary

    /// Summarises `metrics`. Each metric's interval gets its own random stream, seeded from
    /// (`bootstrap.seed`, `streamPrefix` + metric name), so results do not depend on metric order.
    public init(_ metrics: [SegmentationMetrics], bootstrap: BootstrapSettings = BootstrapSettings(),
                streamPrefix: String = "") {
        func summary(_ metric: SegmentationMetric) -> MetricSummary {
            var rng = SplitMix64(seed: bootstrap.seed, label: streamPrefix + metric.rawValue)
            return MetricSummary(metrics.map { metric.value(in: $0) }, bootstrap: bootstrap, rng: &rng)
        }
        images = metrics.count
        dice = summary(.dice)
        iou = summary(.iou)
        precision = summary(.precision)
        recall = summary(.recall)
        specificity = summary(.specificity)
        accuracy = summary(.accuracy)
        auc = summary(.auc)
        rmse = summary(.rmse)
        hd95 = summary(.hd95)
        assd = summary(.assd)
    }

}

/// A value per `SegmentationMetric`, as stored properties named after the metrics (aggregates over images,
/// statistics over folds); `self[metric]` reads one.
public protocol PerSegmentationMetric {
    associatedtype Value
    var dice: Value { get }
    var iou: Value { get }
    var precision: Value { get }
    var recall: Value { get }
    var specificity: Value { get }
    var accuracy: Value { get }
    var auc: Value { get }
    var rmse: Value { get }
    var hd95: Value { get }
    var assd: Value { get }
}

extension PerSegmentationMetric {
    public subscript(metric: SegmentationMetric) -> Value {
        switch metric {
        case .dice: return dice
        case .iou: return iou
        case .precision: return precision
        case .recall: return recall
        case .specificity: return specificity
        case .accuracy: return accuracy
        case .auc: return auc
        case .rmse: return rmse
        case .hd95: return hd95
        case .assd: return assd
        }
    }
}
