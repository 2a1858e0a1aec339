import Foundation
import SonoBase

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

/// The U-Net trainer's epoch log. The log is written before the checkpoint of the same epoch, and a resumed run
/// truncates lines past its checkpoint, so the file always matches the weights.
enum RunLog {
    static func append(_ record: EpochRecord, to url: URL) throws { try JSONLines.append(record, to: url) }
    static func read(_ url: URL) -> [EpochRecord] { JSONLines.read(EpochRecord.self, from: url) }
    static func truncate(_ url: URL, before epoch: Int) throws { try JSONLines.keep(EpochRecord.self, in: url) { $0.epoch < epoch } }
}
