/// k-fold cross-validation: each metric's per-fold mean, then the mean ± sample std of those across folds
/// (the "0.812 ± 0.034 over 5 folds" of the papers; the spread is between folds, not between images).
public struct CrossValidationSummary: Codable, Sendable, Equatable, PerSegmentationMetric {
    /// One metric across folds.
    public struct Statistic: Codable, Sendable, Equatable {
        /// Each fold's mean, in fold order; nil where the fold had no value for the metric.
        public var foldMeans: [Double?]
        /// Mean of the fold means that exist; nil if none.
        public var mean: Double?
        /// Sample std (n − 1) of the fold means that exist; nil with fewer than two.
        public var std: Double?

        public init(foldMeans: [Double?]) {
            self.foldMeans = foldMeans
            let present = foldMeans.compactMap { $0 }
            let n = Double(present.count)
            let m = present.isEmpty ? nil : present.reduce(0, +) / n
            mean = m
            if let m, present.count > 1 {
                std = (present.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
            } else {
                std = nil
            }
        }
    }

    public var folds: Int
    public var dice: Statistic
    public var iou: Statistic
    public var precision: Statistic
    public var recall: Statistic
    public var specificity: Statistic
    public var accuracy: Statistic
    public var auc: Statistic
    public var rmse: Statistic
    public var hd95: Statistic
    public var assd: Statistic

    /// From each fold's aggregate (e.g. `report.lesion` of each fold's test report).
    public init(folds: [SegmentationAggregate]) {
        func statistic(_ metric: SegmentationMetric) -> Statistic {
            Statistic(foldMeans: folds.map { $0[metric].mean })
        }
        self.folds = folds.count
        dice = statistic(.dice)
        iou = statistic(.iou)
        precision = statistic(.precision)
        recall = statistic(.recall)
        specificity = statistic(.specificity)
        accuracy = statistic(.accuracy)
        auc = statistic(.auc)
        rmse = statistic(.rmse)
        hd95 = statistic(.hd95)
        assd = statistic(.assd)
    }

    /// From each fold's report, using the aggregate of `scope`.
    public init(reports: [SegmentationReport], scope: SegmentationReport.Scope = .lesion) {
        self.init(folds: reports.map { $0.aggregate(scope) })
    }
}
