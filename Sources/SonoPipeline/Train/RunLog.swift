import Foundation
import SonoBase

/// The U-Net's validation figures of one epoch (mean Dice picks the best epoch).
public struct UNetValidation: Codable, Sendable {
    public var dice: Double
    public var loss: Double
    public init(dice: Double, loss: Double) { (self.dice, self.loss) = (dice, loss) }
}

/// Reading a run's epoch log (tests, reports).
public enum RunLog {
    static func read(_ url: URL) -> [EpochRecord<UNetValidation>] { JSONLines.read(EpochRecord<UNetValidation>.self, from: url) }
}
