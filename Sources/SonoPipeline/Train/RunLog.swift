import Foundation

/// One line of a run's `log.jsonl`, appended after every epoch.
public struct EpochRecord: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var validationDice: Double
    public var validationLoss: Double
    public var learningRate: Float
    public var seconds: Double
    public var best: Bool
    public var skipped: [String] = []
}

/// Append-only JSON-lines files: every trainer's `log.jsonl`. Non-finite numbers are written as strings so a
/// diverging run still logs.
enum JSONLines {
    static func append<T: Encodable>(_ record: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var line = try encoder.encode(record)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    static func read<T: Decodable>(_ type: T.Type, from url: URL) -> [T] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return text.split(separator: "\n").compactMap { try? decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// Keeps only the records that satisfy `keep` (a resumed run drops lines past its checkpoint), atomically.
    static func keep<T: Codable>(_ type: T.Type, in url: URL, where keep: (T) -> Bool) throws {
        let kept = read(T.self, from: url).filter(keep)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try? FileManager.default.removeItem(at: tmp)
        for r in kept { try append(r, to: tmp) }
        if kept.isEmpty { FileManager.default.createFile(atPath: tmp.path, contents: nil) }
        try atomicReplace(tmp, url)
    }

    private static func atomicReplace(_ tmp: URL, _ url: URL) throws {
        if rename(tmp.path, url.path) != 0 {
            throw PipelineError.unreadable(url.path, "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}

/// The U-Net trainer's epoch log. The log is written before the checkpoint of the same epoch, and a resumed run
/// truncates lines past its checkpoint, so the file always matches the weights.
enum RunLog {
    static func append(_ record: EpochRecord, to url: URL) throws { try JSONLines.append(record, to: url) }
    static func read(_ url: URL) -> [EpochRecord] { JSONLines.read(EpochRecord.self, from: url) }
    static func truncate(_ url: URL, before epoch: Int) throws { try JSONLines.keep(EpochRecord.self, in: url) { $0.epoch < epoch } }
}
