import Foundation
import SonoImaging

/// Segmentation quality of one image: a probability map thresholded into a prediction, against a binary
/// ground-truth mask.
///
/// Counts are over pixels: TP (predicted and true lesion), FP, FN, TN. Ratios in [0, 1]:
/// - Dice (= F1) = 2TP / (2TP + FP + FN); IoU (Jaccard) = TP / (TP + FP + FN)
/// - precision = TP / (TP + FP); recall (sensitivity) = TP / (TP + FN); specificity = TN / (TN + FP)
/// - accuracy = (TP + TN) / pixels
///
/// A ratio whose denominator is 0 is 1 when prediction and truth agree on every pixel (FP + FN = 0) and 0
/// otherwise. So both masks empty gives Dice, IoU, precision and recall 1; exactly one empty gives 0 for all
/// four (predicting nothing must not score a perfect precision on a lesion image, nor predicting a lesion on a
/// normal image a perfect recall).
///
/// `auc` is the pixel ROC AUC of the raw probabilities (see `MannWhitneyAUC`), nil when the mask is all one
/// class. `rmse` is √(mean (p − t)²) of the raw probabilities against the 0/1 mask. `hd95` and `assd` are the
/// surface distances of `SurfaceDistances` in `distanceUnit` (millimetres when `spacing` is known): 0 when
/// both masks are empty, nil (missing, not infinite) when exactly one is.
public struct SegmentationMetrics: Codable, Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// A pixel is predicted lesion when its probability is ≥ this.
    public var threshold: Float
    /// Pixel pitch in mm, when known.
    public var spacing: PixelSpacing?

    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    public var trueNegatives: Int

    public var dice: Double
    public var iou: Double
    public var precision: Double
    public var recall: Double
    public var specificity: Double
    public var accuracy: Double
    public var auc: Double?
    public var rmse: Double
    public var hd95: Double?
    public var assd: Double?
    public var distanceUnit: DistanceUnit

    /// Lesion pixels in the ground truth.
    public var truthPixels: Int { truePositives + falseNegatives }
    /// Lesion pixels in the prediction.
    public var predictedPixels: Int { truePositives + falsePositives }
    /// True for a normal image (no lesion in the ground truth).
    public var truthIsEmpty: Bool { truthPixels == 0 }
    /// Predicted lesion outside the ground truth, in mm² (nil without spacing).
    public var falsePositiveAreaMM2: Double? { spacing.map { Double(falsePositives) * $0.pixelArea } }

    /// Metrics of `probabilities` (row-major, values in [0, 1]) against `truth`, where any nonzero byte is
    /// lesion (so 0/1 and 0/255 masks both work).
    public init(probabilities: [Float], truth: [UInt8], width: Int, height: Int, threshold: Float = 0.5,
                spacing: PixelSpacing? = nil) throws {
        try MetricsError.checkSize(truth.count, width: width, height: height, "ground-truth mask")
        try self.init(probabilities: probabilities, truthFlags: truth.map { $0 != 0 }, width: width,
                      height: height, threshold: threshold, spacing: spacing)
    }

    /// As above, with a 0/1 float mask; values ≥ 0.5 are lesion.
    public init(probabilities: [Float], truth: [Float], width: Int, height: Int, threshold: Float = 0.5,
                spacing: PixelSpacing? = nil) throws {
        try MetricsError.checkSize(truth.count, width: width, height: height, "ground-truth mask")
        try self.init(probabilities: probabilities, truthFlags: truth.map { $0 >= 0.5 }, width: width,
                      height: height, threshold: threshold, spacing: spacing)
    }

    /// As above, with a `Mask` of the imaging layer.
    public init(probabilities: [Float], truth: Mask, threshold: Float = 0.5, spacing: PixelSpacing? = nil) throws {
        try self.init(probabilities: probabilities, truth: truth.pixels, width: truth.width, height: truth.height,
                      threshold: threshold, spacing: spacing)
    }

    /// Scores a predicted mask made from `probabilities` by more than a threshold (hole filling, largest
    /// component: `MaskPostprocessing`); AUC and RMSE still read the probabilities.
    public init(probabilities: [Float], prediction: Mask, truth: Mask, threshold: Float, spacing: PixelSpacing? = nil) throws {
        try MetricsError.checkSize(truth.pixels.count, width: prediction.width, height: prediction.height, "ground-truth mask")
        try self.init(probabilities: probabilities, truthFlags: truth.pixels.map { $0 != 0 }, width: truth.width, height: truth.height,
                      threshold: threshold, spacing: spacing, predicted: prediction.pixels.map { $0 != 0 })
    }

    init(probabilities: [Float], truthFlags truth: [Bool], width: Int, height: Int, threshold: Float,
         spacing: PixelSpacing?, predicted: [Bool]? = nil) throws {
        try MetricsError.checkSize(probabilities.count, width: width, height: height, "probability map")
        let n = width * height
        var prediction = [Bool](repeating: false, count: n)
        var tp = 0, fp = 0, fn = 0
        var squaredError = 0.0
        for i in 0..<n {
            let p = probabilities[i], t = truth[i]
            let predicted = predicted?[i] ?? (p >= threshold)
            prediction[i] = predicted
            if predicted {
                if t { tp += 1 } else { fp += 1 }
            } else if t {
                fn += 1
            }
            let error = Double(p) - (t ? 1 : 0)
            squaredError += error * error
        }
        let tn = n - tp - fp - fn
        let perfect = fp + fn == 0
        func ratio(_ numerator: Int, _ denominator: Int) -> Double {
            denominator == 0 ? (perfect ? 1 : 0) : Double(numerator) / Double(denominator)
        }

        (self.width, self.height, self.threshold, self.spacing) = (width, height, threshold, spacing)
        truePositives = tp
        falsePositives = fp
        falseNegatives = fn
        trueNegatives = tn
        dice = ratio(2 * tp, 2 * tp + fp + fn)
        iou = ratio(tp, tp + fp + fn)
        precision = ratio(tp, tp + fp)
        recall = ratio(tp, tp + fn)
        specificity = ratio(tn, tn + fp)
        accuracy = Double(tp + tn) / Double(n)
        auc = MannWhitneyAUC.auc(scores: probabilities, positives: truth)
        rmse = (squaredError / Double(n)).squareRoot()
        let surface = SurfaceDistances.between(prediction: prediction, truth: truth, width: width, height: height,
                                               spacing: spacing)
        hd95 = surface?.hd95
        assd = surface?.assd
        distanceUnit = DistanceUnit(spacing: spacing)
    }
}
