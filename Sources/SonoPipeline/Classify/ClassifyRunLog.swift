import Foundation
import SonoBase

/// One line of a classification run's `log.jsonl`, appended after every epoch.
public struct TaskEpochRecord: Codable, Sendable, EpochRecordLine {
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

/// Reading a classification run's epoch log (tests, reports).
enum TaskRunLog {
    static func read(_ url: URL) -> [TaskEpochRecord] { JSONLines.read(TaskEpochRecord.self, from: url) }
}
