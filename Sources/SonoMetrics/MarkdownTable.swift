import Foundation

/// A GitHub-flavoured Markdown table: a left-aligned first column (names), right-aligned value columns.
public struct MarkdownTable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) { (self.header, self.rows) = (header, rows) }

    public func render() -> String {
        var lines = [line(header)]
        lines.append("| :-- |" + String(repeating: " --: |", count: header.count - 1))
        lines += rows.map(line)
        return lines.joined(separator: "\n") + "\n"
    }

    private func line(_ cells: [String]) -> String {
        "| " + cells.map(MarkdownTable.escape).joined(separator: " | ") + " |"
    }

    /// A `|` inside a cell would end it; line breaks would end the row.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// What a missing value prints as.
    public static let missing = "—"

    /// `0.812` with `digits` decimals, or `missing`.
    public static func value(_ value: Double?, digits: Int) -> String {
        guard let value else { return missing }
        return String(format: "%.\(digits)f", value)
    }

    /// `0.812 ± 0.034` (mean ± std), just the mean when there is no std (one value), or `missing`.
    public static func meanStd(_ mean: Double?, _ std: Double?, digits: Int) -> String {
        guard let mean else { return missing }
        guard let std else { return value(mean, digits: digits) }
        return value(mean, digits: digits) + " ± " + value(std, digits: digits)
    }
}
