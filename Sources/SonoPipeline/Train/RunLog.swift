import Foundation
import SonoBase

/// One line of a run's `log.jsonl`, appended after every epoch.
public struct EpochRecord: Codable, Sendable, EpochRecordLine {
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

/// Reading a run's epoch log (tests, reports).
enum RunLog {
    static func read(_ url: URL) -> [EpochRecord] { JSONLines.read(EpochRecord.self, from: url) }
}
