import Foundation

/// One line of a classification run's `log.jsonl`, appended after every epoch.
public struct TaskEpochRecord: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainClassificationLoss: Double?
    public var trainSegmentationLoss: Double?
    public var validation: TaskValidation
    public var learningRate: Float
    public var seconds: Double
    public var best: Bool
    public var skipped: [String] = []
}

/// JSON lines written before the checkpoint of the same epoch; a resumed run drops lines past its checkpoint.
enum TaskRunLog {
    static func append(_ record: TaskEpochRecord, to url: URL) throws {
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

    static func read(_ url: URL) -> [TaskEpochRecord] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return text.split(separator: "\n").compactMap { try? decoder.decode(TaskEpochRecord.self, from: Data($0.utf8)) }
    }

    static func truncate(_ url: URL, before epoch: Int) throws {
        let kept = read(url).filter { $0.epoch < epoch }
        try? FileManager.default.removeItem(at: url)
        for r in kept { try append(r, to: url) }
    }
}
