/// The per-image segmentation metrics by name, for aggregation, tables and CSV columns.
public enum SegmentationMetric: String, Codable, Sendable, CaseIterable {
    case dice, iou, precision, recall, specificity, accuracy, auc, rmse, hd95, assd

    /// Column title as in the papers' tables (Li et al., Tables 1–2).
    public var title: String {
        switch self {
        case .dice: return "DSC"
        case .iou: return "Jaccard"
        case .precision: return "Precision"
        case .recall: return "Recall"
        case .specificity: return "Specificity"
        case .accuracy: return "Accuracy"
        case .auc: return "AUC"
        case .rmse: return "RMSE"
        case .hd95: return "HD95"
        case .assd: return "ASSD"
        }
    }

    /// This metric's value for one image; nil where it is not computable (see `SegmentationMetrics`).
    public func value(in metrics: SegmentationMetrics) -> Double? {
        switch self {
        case .dice: return metrics.dice
        case .iou: return metrics.iou
        case .precision: return metrics.precision
        case .recall: return metrics.recall
        case .specificity: return metrics.specificity
        case .accuracy: return metrics.accuracy
        case .auc: return metrics.auc
        case .rmse: return metrics.rmse
        case .hd95: return metrics.hd95
        case .assd: return metrics.assd
        }
    }
}
