extension MetricsMarkdown {
    /// Rows = models; columns Accuracy, Balanced acc., Macro F1, AUC (the positive class's for two classes,
    /// else the macro one-vs-rest AUC).
    public static func classificationTable(_ entries: [(name: String, report: ClassificationReport)],
                                           digits: Int = 3) -> String {
        MarkdownTable(
            header: ["Model", "Accuracy", "Balanced acc.", "Macro F1", "AUC"],
            rows: entries.map { entry in
                let r = entry.report
                return [entry.name] + [r.accuracy, r.balancedAccuracy, r.macroF1, r.auc].map {
                    MarkdownTable.value($0, digits: digits)
                }
            }
        ).render()
    }

    /// The confusion matrix: a row per true class, a column per predicted class, cells are sample counts.
    public static func confusionMatrix(_ report: ClassificationReport) -> String {
        MarkdownTable(
            header: ["True \\ Predicted"] + report.classNames,
            rows: zip(report.classNames, report.confusion).map { name, counts in [name] + counts.map(String.init) }
        ).render()
    }
}
