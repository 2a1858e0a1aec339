import Foundation
import SonoBase

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
    static func append(_ record: TaskEpochRecord, to url: URL) throws { try JSONLines.append(record, to: url) }
    static func read(_ url: URL) -> [TaskEpochRecord] { JSONLines.read(TaskEpochRecord.self, from: url) }
    static func truncate(_ url: URL, before epoch: Int) throws { try JSONLines.keep(TaskEpochRecord.self, in: url) { $0.epoch < epoch } }
}
