import Foundation

/// JSON as SonoSeg writes it everywhere: pretty, sorted keys (the same value always gives the same bytes), and
/// non-finite numbers as the strings "nan", "inf", "-inf" so a diverging run still logs and reports.
public enum JSONFiles {
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The value in the JSON file at `url`, or an error naming the file and what is wrong.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw FileReadError(path: url.path, reason: "cannot read it") }
        do { return try decoder().decode(T.self, from: data) } catch {
            throw FileReadError(path: url.path, reason: "not a valid \(T.self): \(describeDecoding(error))")
        }
    }

    /// Pretty, sorted JSON and a final newline, written atomically.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        var data = try encoder().encode(value)
        data.append(0x0A)
        try AtomicFile.write(data, to: url)
    }
}

/// Append-only JSON-lines files (every trainer's `log.jsonl`): one compact record a line.
public enum JSONLines {
    public static func append<T: Encodable>(_ record: T, to url: URL) throws {
        var line = try JSONFiles.encoder(pretty: false).encode(record)
        line.append(0x0A)
        do {
            if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } catch {
            throw FileWriteError(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The records that decode; a missing file is an empty log.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) -> [T] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let decoder = JSONFiles.decoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// Keeps only the records that satisfy `keep` (a resumed run drops lines past its checkpoint), atomically.
    public static func keep<T: Codable>(_ type: T.Type, in url: URL, where keep: (T) -> Bool) throws {
        var data = Data()
        for record in read(T.self, from: url).filter(keep) {
            data.append(try JSONFiles.encoder(pretty: false).encode(record))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: url)
    }
}

/// A file that could not be read or parsed.
public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// A decoding error in words a user can act on: the key path and what was wrong there (other errors as they
/// describe themselves).
public func describeDecoding(_ error: Error) -> String {
    switch error {
    case let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c), let DecodingError.dataCorrupted(c):
        let path = c.codingPath.map(\.stringValue).joined(separator: ".")
        return (path.isEmpty ? "" : "at '\(path)': ") + c.debugDescription
    case let DecodingError.keyNotFound(key, c):
        let path = (c.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        return "missing key '\(path)'"
    default: return "\(error)"
    }
}
