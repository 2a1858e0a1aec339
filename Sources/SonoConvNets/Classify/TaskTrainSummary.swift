import Foundation
import SonoMetrics
import SonoPipeline

/// What `trainTask` returns and writes to `summary.json`.
public struct TaskTrainSummary: Codable, Sendable {
    public var task: ClassifyTask
    public var model: ClassifyModelKind
    public var parameters: Int
    public var classNames: [String]
    public var classWeights: [Float]?
    public var epochsRun: Int
    public var bestEpoch: Int
    /// Best validation score (balanced accuracy, Dice, or their mean for multitask).
    public var bestValidationScore: Double
    public var seconds: Double
    public var trainImages: Int
    public var validationImages: Int
    public var testImages: Int
    public var stoppedEarly: Bool
    /// Test figures of the best model (nil when there is no test part).
    public var test: TaskTestFigures?
}

/// Headline test figures.
public struct TaskTestFigures: Codable, Sendable {
    public var accuracy: Double?
    public var balancedAccuracy: Double?
    public var macroF1: Double?
    public var auc: Double?
    public var dice: Double?
}
