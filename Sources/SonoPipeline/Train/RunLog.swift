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

enum RunLog {
    /// Appends one JSON object per line. The log is written before the checkpoint of the same epoch, and a
    /// resumed run truncates lines past its checkpoint, so the file always matches the weights.
    static func append(_ record: EpochRecord, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(record)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    static func read(_ url: URL) -> [EpochRecord] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
    }

    /// Keeps the records of epochs before `epoch` (used on resume).
    static func truncate(_ url: URL, before epoch: Int) throws {
        let kept = read(url).filter { $0.epoch < epoch }
        try? FileManager.default.removeItem(at: url)
        for r in kept { try append(r, to: url) }
    }
}
