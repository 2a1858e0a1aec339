import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase

/// Reading a classification run's epoch log (tests, reports).
enum TaskRunLog {
    static func read(_ url: URL) -> [EpochRecord<TaskValidation>] { JSONLines.read(EpochRecord<TaskValidation>.self, from: url) }
}
