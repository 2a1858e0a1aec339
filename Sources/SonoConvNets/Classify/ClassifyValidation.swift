import SonoMetrics
import Foundation
import SonoPipeline
import SonoData
import SonoTensor

/// Validation figures of one epoch. `score` picks the best model: balanced accuracy (classify), mean Dice
/// (segment), or their mean (multitask).
public struct TaskValidation: Codable, Sendable {
    public var loss: Double
    public var accuracy: Double?
    public var balancedAccuracy: Double?
    public var macroF1: Double?
    public var auc: Double?
    public var dice: Double?
    public var score: Double
}

/// Runs the network over `loader` without gradients.
func validateTask(_ network: TaskNetwork, loader: BatchLoader, loss: TaskLoss, classNames: [String],
                  positiveClass: Int, threshold: Float) throws -> TaskValidation {
    network.module.setTraining(false)
    defer { network.module.setTraining(true) }
    var lossSum = 0.0, batches = 0, diceSum = 0.0, images = 0
    var probabilities: [[Float]] = [], labels: [Int] = []
    let stream = loader.epoch(0)
    while let batch = try stream.next() {
        let (x, y) = tensors(batch)
        let out = noGrad { network(x) }
        lossSum += Double(noGrad { loss(out, labels: batch.labels, masks: y) }.total.item); batches += 1
        if loss.task != .segment, let logits = out.classLogits {
            let p = logits.softmax(axis: 1).scalars, k = classNames.count
            probabilities += (0..<batch.count).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }
            labels += batch.labels
        }
        if loss.task != .classify, let logits = out.segmentationLogits {
            let p = logits.scalars, plane = batch.height * batch.width
            for i in 0..<batch.count {
                diceSum += hardDice(p[(i * plane)..<((i + 1) * plane)], batch.masks[(i * plane)..<((i + 1) * plane)], above: logitThreshold(threshold))
                images += 1
            }
        }
    }
    var v = TaskValidation(loss: batches > 0 ? lossSum / Double(batches) : 0, score: 0)
    var scores: [Double] = []
    if !labels.isEmpty {
        let r = try ClassificationReport(probabilities: probabilities, labels: labels, classNames: classNames, positiveClass: positiveClass,
                                         bootstrap: nil)
        (v.accuracy, v.balancedAccuracy, v.macroF1, v.auc) = (r.accuracy, r.balancedAccuracy, r.macroF1, r.auc)
        scores.append(r.balancedAccuracy)
    }
    if images > 0 {
        v.dice = diceSum / Double(images)
        scores.append(v.dice!)
    }
    v.score = scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count)
    return v
}
