import Foundation

/// Writes `Encodable` rows as CSV, so that a row type's `CodingKeys` are the one place where its columns are
/// named: the same keys give summary.json and summary.csv. Columns come in encoding order (synthesised
/// `Codable` encodes in declaration order); a nested value's fields become `parent_child` columns; nil is an
/// empty cell, never a missing column, so every row has the header's columns.
public enum CSVRows {
    /// The header line and one line per row. `template` gives the columns when `rows` is empty.
    public static func csv<Row: Encodable>(_ rows: [Row], template: Row) throws -> String {
        let header = try cells(template).map(\.column)
        var out = header.map(CSVField.escape).joined(separator: ",") + "\n"
        for row in rows {
            let c = try cells(row)
            guard c.map(\.column) == header else {
                throw EncodingError.invalidValue(row, .init(codingPath: [], debugDescription: "CSV row columns \(c.map(\.column)) differ from the header \(header)"))
            }
            out += c.map { CSVField.escape($0.value) }.joined(separator: ",") + "\n"
        }
        return out
    }

    /// One row's (column, cell) pairs in order.
    public static func cells<Row: Encodable>(_ row: Row) throws -> [(column: String, value: String)] {
        let sink = Sink()
        try row.encode(to: CellEncoder(sink: sink, prefix: ""))
        return sink.cells
    }

    /// How numbers are written: enough digits for millimetres and probabilities, and the same for every column.
    static func format(_ v: Double) -> String {
        v.isFinite ? String(format: "%.4f", v) : v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf")   // never "-nan": the sign bit of a NaN means nothing
    }

    final class Sink { var cells: [(column: String, value: String)] = [] }

    struct CellEncoder: Encoder {
        let sink: Sink
        let prefix: String
        var codingPath: [CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(sink: sink, prefix: prefix))
        }
        func unkeyedContainer() -> UnkeyedEncodingContainer { Unkeyed(sink: sink, prefix: prefix) }
        func singleValueContainer() -> SingleValueEncodingContainer { Single(sink: sink, column: prefix) }
    }

    /// A scalar is one cell; anything else is flattened under its column name.
    static func put<T: Encodable>(_ value: T, column: String, sink: Sink) throws {
        switch value {
        case let v as String: sink.cells.append((column, v))
        case let v as Bool: sink.cells.append((column, v ? "true" : "false"))
        case let v as Double: sink.cells.append((column, format(v)))
        case let v as Float: sink.cells.append((column, format(Double(v))))
        case let v as any BinaryInteger: sink.cells.append((column, "\(v)"))
        default: try value.encode(to: CellEncoder(sink: sink, prefix: column))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let sink: Sink
        let prefix: String
        var codingPath: [CodingKey] = []
        func column(_ key: Key) -> String { prefix.isEmpty ? key.stringValue : prefix + "_" + key.stringValue }
        mutating func encodeNil(forKey key: Key) throws { sink.cells.append((column(key), "")) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try put(value, column: column(key), sink: sink) }
        // nil keeps its column (an empty cell); synthesised Codable calls these for optionals
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key); return }
            // A missing nested value keeps its columns: the placeholder's, left empty.
            guard let shape = T.self as? any CSVPlaceholder.Type else { return try encodeNil(forKey: key) }
            let inner = Sink()
            try put(shape.placeholder, column: column(key), sink: inner)
            sink.cells += inner.cells.map { ($0.column, "") }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeIfPresent(value as Bool??, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeIfPresent(value as String??, key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeIfPresent(value as Double??, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeIfPresent(value as Float??, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeIfPresent(value as Int??, key) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeIfPresent(value as Int8??, key) }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeIfPresent(value as Int16??, key) }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeIfPresent(value as Int32??, key) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeIfPresent(value as Int64??, key) }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeIfPresent(value as UInt??, key) }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeIfPresent(value as UInt8??, key) }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeIfPresent(value as UInt16??, key) }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeIfPresent(value as UInt32??, key) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeIfPresent(value as UInt64??, key) }
        private mutating func encodeIfPresent<T: Encodable>(_ value: T??, _ key: Key) throws {
            if let v = value ?? nil { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(Keyed<N>(sink: sink, prefix: column(key)))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { Unkeyed(sink: sink, prefix: column(key)) }
        mutating func superEncoder() -> Encoder { CellEncoder(sink: sink, prefix: prefix) }
        mutating func superEncoder(forKey key: Key) -> Encoder { CellEncoder(sink: sink, prefix: column(key)) }
    }

    /// Arrays: one cell, the elements joined by ';' (a CSV cell holds one value; JSON keeps the array).
    final class Unkeyed: UnkeyedEncodingContainer {
        let sink: Sink, prefix: String
        var codingPath: [CodingKey] = []
        var count = 0
        private var parts: [String] = []
        private let index: Int
        init(sink: Sink, prefix: String) {
            (self.sink, self.prefix) = (sink, prefix)
            index = sink.cells.count
            sink.cells.append((prefix, ""))
        }
        private func add(_ s: String) { parts.append(s); count += 1; sink.cells[index].value = parts.joined(separator: ";") }
        func encodeNil() throws { add("") }
        func encode<T: Encodable>(_ value: T) throws {
            let inner = Sink()
            try put(value, column: "", sink: inner)
            add(inner.cells.map(\.value).joined(separator: ";"))
        }
        func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(Keyed<N>(sink: Sink(), prefix: prefix))
        }
        func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { Unkeyed(sink: Sink(), prefix: prefix) }
        func superEncoder() -> Encoder { CellEncoder(sink: Sink(), prefix: prefix) }
    }

    struct Single: SingleValueEncodingContainer {
        let sink: Sink, column: String
        var codingPath: [CodingKey] = []
        mutating func encodeNil() throws { sink.cells.append((column, "")) }
        mutating func encode<T: Encodable>(_ value: T) throws { try put(value, column: column, sink: sink) }
    }
}

/// A nested row value whose columns must stay in the CSV when it is nil: its placeholder gives their names.
public protocol CSVPlaceholder: Encodable {
    static var placeholder: Self { get }
}
