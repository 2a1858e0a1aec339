import SonoMetrics
import Foundation
import SonoBase
import SonoData
import SonoImaging

/// One self-contained `report.html` for a run or evaluation folder: whatever the folder holds, drawn. Images
/// are inlined (SVG as markup, PNG as data URIs), so the file opens offline and can be mailed on its own.
public enum HTMLReport {
    /// The case overlays `evaluate --report` leaves in `cases/`.
    public struct Case: Codable, Sendable {
        public var kind: String
        public var id: String
        public var dice: Double
        public var file: String
    }

    /// Writes `folder/report.html` and returns its URL; a folder with nothing to report is an error.
    @discardableResult
    public static func write(_ folder: URL, title: String? = nil) throws -> URL {
        var isFolder: ObjCBool = false
        let test = folder.appendingPathComponent("test")
        let hasTest = FileManager.default.fileExists(atPath: test.path, isDirectory: &isFolder) && isFolder.boolValue
        let sections = try self.sections(folder) + (hasTest ? try self.sections(test, heading: "Test part") : [])
        guard !sections.isEmpty else {
            throw PipelineError.emptyDataset("\(folder.path): nothing to report (no log.jsonl, metrics.json, classification.json or diagnosis.md)")
        }
        let name = title ?? folder.lastPathComponent
        var html = """
        <!doctype html><html><head><meta charset="utf-8"><title>\(escapeXML(name)) — SonoSeg report</title><style>
        body { font-family: sans-serif; margin: 24px auto; max-width: 1320px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 17px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 28px; }
        h3 { font-size: 14px; } table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
        td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } td:first-child, th:first-child { text-align: left; }
        th { background: #f2f2f2; } .cases { display: flex; gap: 12px; flex-wrap: wrap; } .cases figure { margin: 0; }
        .cases img { max-width: 420px; border: 1px solid #ccc; } figcaption { font-size: 12px; color: #555; }
        .charts { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; } .note { color: #666; font-size: 12px; }
        </style></head><body>
        <h1>\(escapeXML(name))</h1>
        <p class="note">SonoSeg \(SonoSegVersion.current) · \(escapeXML(folder.path)) · \(ISO8601DateFormatter().string(from: Date()))</p>
        <p class="note"><strong>\(escapeXML(ResearchUse.notice))</strong></p>

        """
        html += sections.joined(separator: "\n") + "\n</body></html>\n"
        let url = folder.appendingPathComponent("report.html")
        try AtomicFile.write(Data(html.utf8), to: url)
        return url
    }

    static func sections(_ folder: URL, heading: String? = nil) throws -> [String] {
        func file(_ name: String) -> URL? {
            let u = folder.appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: u.path) ? u : nil
        }
        var out: [String] = []
        if let log = file("log.jsonl"), let svg = TrainingCurves.svg(log: log) {
            out.append("<h2>Training curves</h2>\n" + svg)
        }
        if let metrics = file("metrics.json") {
            let report = try JSONFiles.read(SegmentationReport.self, from: metrics)
            var s = "<h2>\(heading.map { $0 + ": " } ?? "")Segmentation (\(report.rows.count) images)</h2>\n"
            s += markdownToHTML(MetricsMarkdown.segmentationTable([(name: folder.lastPathComponent, report: report)]), folder: folder)
            s += "<div class=\"charts\">" + Charts.histogram(report.rows.map(\.metrics.dice), title: "Dice per image", xLabel: "Dice") + "</div>\n"
            if let cases = file("cases/cases.json") {
                let list = try JSONFiles.read([Case].self, from: cases)
                s += "<h3>Best, median and worst cases (ground truth green, prediction red)</h3>\n<div class=\"cases\">"
                for c in list {
                    s += "<figure>" + image(folder.appendingPathComponent("cases").appendingPathComponent(c.file))
                        + "<figcaption>\(escapeXML(c.kind)): \(escapeXML(c.id)), Dice \(String(format: "%.3f", c.dice))</figcaption></figure>"
                }
                s += "</div>\n"
            }
            out.append(s)
        }
        if let md = file("classification.md") {
            var s = "<h2>\(heading.map { $0 + ": " } ?? "")Classification</h2>\n" + markdownToHTML(try String(contentsOf: md, encoding: .utf8), folder: folder)
            s += "<div class=\"charts\">"
            if let predictions = file("predictions.csv"), let roc = try rocChart(predictions) { s += roc }
            if let reliability = file("reliability.svg") { s += try String(contentsOf: reliability, encoding: .utf8) }
            out.append(s + "</div>\n")
        }
        if let md = file("diagnosis.md") {
            out.append("<h2>Diagnosis</h2>\n" + markdownToHTML(try String(contentsOf: md, encoding: .utf8), folder: folder))
        }
        return out
    }

    /// The ROC of a `predictions.csv` (classify evaluate): the positive class is "malignant" or "lesion" when
    /// present, else the second class.
    static func rocChart(_ url: URL) throws -> String? {
        let table = try CSVTable(contentsOf: url)
        let truth = try table.column("true_class")
        let classColumns = table.header.filter { $0.hasPrefix("p_") }
        guard classColumns.count >= 2 else { return nil }
        let positive = classColumns.first { $0 == "p_malignant" || $0 == "p_lesion" } ?? classColumns[1]
        let column = try table.column(positive)
        let name = String(positive.dropFirst(2))
        let scores = table.rows.map { Double(table.value($0, column)) ?? .nan }
        return Charts.roc(scores: scores, positives: table.rows.map { table.value($0, truth) == name }, title: "ROC, \(name)")
    }

    /// An image file inlined: SVG as markup, anything else as a PNG data URI.
    static func image(_ url: URL) -> String {
        if url.pathExtension.lowercased() == "svg" { return (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        guard let data = try? Data(contentsOf: url) else { return "<p class=\"note\">missing \(escapeXML(url.lastPathComponent))</p>" }
        return "<img src=\"data:image/png;base64,\(data.base64EncodedString())\" alt=\"\(escapeXML(url.lastPathComponent))\">"
    }

    /// The Markdown SonoSeg writes (headings, pipe tables, images, paragraphs) as HTML; images are inlined
    /// from `folder`.
    static func markdownToHTML(_ markdown: String, folder: URL) -> String {
        var html = "", table: [[String]] = []
        func cells(_ line: Substring) -> [String] {
            line.trimmingCharacters(in: .whitespaces).dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        func flush() {
            guard let head = table.first else { return }
            html += "<table><tr>" + head.map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr>"
            for row in table.dropFirst() where !row.allSatisfy({ $0.hasPrefix(":--") || $0.hasPrefix("--") || $0.hasSuffix("--:") }) {
                html += "<tr>" + row.map { "<td>\(escapeXML($0))</td>" }.joined() + "</tr>"
            }
            html += "</table>\n"
            table = []
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("|") { table.append(cells(line)); continue }
            flush()
            if t.isEmpty { continue }
            if let hashes = t.firstIndex(where: { $0 != "#" }), t.hasPrefix("#") {
                let level = min(4, t.distance(from: t.startIndex, to: hashes) + 1)
                html += "<h\(level)>\(escapeXML(t[hashes...].trimmingCharacters(in: .whitespaces)))</h\(level)>\n"
            } else if t.hasPrefix("!["), let open = t.firstIndex(of: "("), let close = t.lastIndex(of: ")") {
                html += "<div class=\"charts\">" + image(folder.appendingPathComponent(String(t[t.index(after: open)..<close]))) + "</div>\n"
            } else {
                html += "<p>\(escapeXML(t))</p>\n"
            }
        }
        flush()
        return html
    }
}
