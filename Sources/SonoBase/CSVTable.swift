import Foundation

/// A parsed CSV file with a header row. Handles quoted fields (with embedded separators, quotes as "",
/// newlines), CRLF line ends, a UTF-8 byte-order mark and a configurable separator (BUS-UCLM uses ';').
public struct CSVTable: Sendable {
    public var path: String
    public var header: [String]
    /// Data rows; `lineNumbers[i]` is the 1-based line where row i starts (for messages).
    public var rows: [[String]]
    public var lineNumbers: [Int]

    public init(contentsOf url: URL, separator: Character = ",") throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CSVError.unreadable(path: url.path, reason: "not readable as UTF-8 text")
        }
        try self.init(text: text, path: url.path, separator: separator)
    }

    public init(text: String, path: String, separator: Character = ",") throws {
        self.path = path
        var records = [[String]](), starts = [Int]()
        var field = "", record = [String](), inQuotes = false, line = 1, recordStart = 1
        var characters = Array(text)
        if characters.first == "\u{FEFF}" { characters.removeFirst() }
        var i = 0
        func endRecord() {
            record.append(field); field = ""
            if !(record.count == 1 && record[0].isEmpty) { records.append(record); starts.append(recordStart) }
            record = []
        }
        while i < characters.count {
            let c = characters[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < characters.count && characters[i + 1] == "\"" { field.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
            } else if c == separator {
                record.append(field); field = ""
            } else if c == "\n" || c == "\r\n" || c == "\r" {
                // Swift merges "\r\n" into one Character.
                endRecord()
                line += 1
                recordStart = line
            } else {
                field.append(c)
            }
            i += 1
        }
        if inQuotes { throw CSVError.unreadable(path: path, reason: "unterminated quoted field at line \(recordStart)") }
        if !field.isEmpty || !record.isEmpty { endRecord() }
        guard let first = records.first else { throw CSVError.unreadable(path: path, reason: "file is empty") }
        header = first.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
        lineNumbers = Array(starts.dropFirst())
    }

    /// Index of `column` (case-insensitive), or an error naming the file.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw CSVError.missingColumn(path: path, column: name)
        }
        return index
    }

    public func value(_ row: [String], _ column: Int) -> String {
        column < row.count ? row[column].trimmingCharacters(in: .whitespaces) : ""
    }
}

/// Why a CSV file could not be used; the message names the file.
public enum CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case missingColumn(path: String, column: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read CSV (\(reason))"
        case let .missingColumn(path, column): return "\(path): CSV has no column \"\(column)\""
        }
    }
}

extension CSVError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Cells of the CSV files SonoSeg writes (summaries, metrics, predictions).
public enum CSVField {
    /// Quotes a field containing a comma, quote or line break, doubling inner quotes (RFC 4180).
    public static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Six decimals; nil is an empty field, non-finite values "nan", "inf", "-inf".
    public static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.6f", value)
    }
}
