/// Markdown tables shaped like the papers' comparison tables: one row per model or variant.
public enum MetricsMarkdown {
    /// The columns of Li et al., Tables 1–2.
    public static let segmentationColumns: [SegmentationMetric] = [.dice, .iou, .precision, .recall, .rmse]

    /// Rows = `entries` in order, columns = `columns` (DSC, Jaccard, Precision, Recall, RMSE by default), cells
    /// `mean ± std` over the images of `scope` (lesion images by default) with `digits` decimals.
    public static func segmentationTable(_ entries: [(name: String, report: SegmentationReport)],
                                         scope: SegmentationReport.Scope = .lesion,
                                         columns: [SegmentationMetric] = segmentationColumns,
                                         digits: Int = 3) -> String {
        MarkdownTable(
            header: ["Model"] + columns.map(\.title),
            rows: entries.map { entry in
                let aggregate = entry.report.aggregate(scope)
                return [entry.name] + columns.map {
                    MarkdownTable.meanStd(aggregate[$0].mean, aggregate[$0].std, digits: digits)
                }
            }
        ).render()
    }

    /// As `segmentationTable`, for k-fold results: cells are the mean ± std across folds of the fold means.
    public static func crossValidationTable(_ entries: [(name: String, summary: CrossValidationSummary)],
                                            columns: [SegmentationMetric] = segmentationColumns,
                                            digits: Int = 3) -> String {
        MarkdownTable(
            header: ["Model"] + columns.map(\.title),
            rows: entries.map { entry in
                [entry.name] + columns.map {
                    let statistic = entry.summary[$0]
                    return MarkdownTable.meanStd(statistic.mean, statistic.std, digits: digits)
                }
            }
        ).render()
    }
}
