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

    /// What a clinician asks of a diagnosis: the AUC and balanced accuracy with their 95% bootstrap intervals,
    /// sensitivity and specificity at the predicted class, and the expected calibration error.
    public static func diagnosisTable(_ entries: [(name: String, report: ClassificationReport)], digits: Int = 3) -> String {
        func ci(_ v: Double?, _ i: [Double]?) -> String {
            guard let v else { return "–" }
            let point = MarkdownTable.value(v, digits: digits)
            guard let i, i.count == 2 else { return point }
            return point + " (" + MarkdownTable.value(i[0], digits: digits) + "–" + MarkdownTable.value(i[1], digits: digits) + ")"
        }
        return MarkdownTable(
            header: ["Model", "Images", "AUC (95% CI)", "Balanced acc. (95% CI)", "Sensitivity", "Specificity", "ECE"],
            rows: entries.map { e in
                let r = e.report
                return [e.name, String(r.samples), ci(r.auc, r.aucInterval), ci(r.balancedAccuracy, r.balancedAccuracyInterval)]
                    + [r.sensitivity, r.specificity, r.calibration?.ece].map { MarkdownTable.value($0, digits: digits) }
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
