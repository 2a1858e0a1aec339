import Foundation
import SonoMetrics
import SonoPipeline
import SonoData
import SonoNN
import SonoTensor

/// The objective of a run: cross-entropy (class-weighted) for classification, the configured segmentation loss
/// for masks, and w_seg · segmentation + w_cls · cross-entropy for the multitask model.
struct TaskLoss {
    var task: ClassifyTask
    var segmentation: SegmentationLossConfig
    var classWeights: [Float]?
    var segmentationWeight: Float
    var classificationWeight: Float

    /// The total loss and its parts (as numbers, for the log).
    func callAsFunction(_ out: TaskOutput, labels: [Int], masks: Tensor) -> (total: Tensor, classification: Float?, segmentation: Float?) {
        var parts: [Tensor] = []
        var cls: Float?, seg: Float?
        if task != .segment, let logits = out.classLogits {
            let ce = crossEntropyLoss(logits, targets: labels, classWeights: classWeights)
            cls = ce.item
            parts.append(task == .multitask ? ce * classificationWeight : ce)
        }
        if task != .classify, let logits = out.segmentationLogits {
            let s = segmentation(logits: logits, masks: masks)
            seg = s.item
            parts.append(task == .multitask ? s * segmentationWeight : s)
        }
        precondition(!parts.isEmpty, "TaskLoss: the network gave no output for task \(task.rawValue)")
        return (parts.dropFirst().reduce(parts[0], +), cls, seg)
    }
}

/// A batch as tensors: images and masks [N, 1, H, W].
func tensors(_ batch: Batch) -> (images: Tensor, masks: Tensor) {
    let shape = [batch.count, 1, batch.height, batch.width]
    return (Tensor(batch.images, shape: shape), Tensor(batch.masks, shape: shape))
}
