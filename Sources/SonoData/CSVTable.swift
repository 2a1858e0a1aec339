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
            throw DatasetError.unreadableCSV(path: url.path, reason: "not readable as UTF-8 text")
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
        if inQuotes { throw DatasetError.unreadableCSV(path: path, reason: "unterminated quoted field at line \(recordStart)") }
        if !field.isEmpty || !record.isEmpty { endRecord() }
        guard let first = records.first else { throw DatasetError.unreadableCSV(path: path, reason: "file is empty") }
        header = first.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
        lineNumbers = Array(starts.dropFirst())
    }

    /// Index of `column` (case-insensitive), or an error naming the file.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw DatasetError.missingColumn(path: path, column: name)
        }
        return index
    }

    public func value(_ row: [String], _ column: Int) -> String {
        column < row.count ? row[column].trimmingCharacters(in: .whitespaces) : ""
    }
}
