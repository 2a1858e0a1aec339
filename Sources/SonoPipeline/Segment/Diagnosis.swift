import Foundation
import SonoImaging

/// What SonoSeg says about one image beyond its outline.
public struct Diagnosis: Codable, Sendable, Equatable {
    /// Calibrated probability that the image shows a lesion, and the call at the bundle's threshold.
    public var lesionProbability: Double
    public var lesionPresent: Bool
    /// Benign or malignant (of the lesion's window), with the calibrated probability of malignancy; nil when
    /// no lesion is present.
    public var pathology: String?
    public var malignancyProbability: Double?
    /// The most probable BI-RADS category ("2"…"5") and its calibrated probability; nil without a lesion or a
    /// BI-RADS model.
    public var birads: String?
    public var biradsProbability: Double?
    /// The presence cut-off `lesionPresent` was decided at.
    public var presenceThreshold: Double?

    public init(lesionProbability: Double, lesionPresent: Bool, pathology: String? = nil, malignancyProbability: Double? = nil,
                birads: String? = nil, biradsProbability: Double? = nil, presenceThreshold: Double? = nil) {
        (self.lesionProbability, self.lesionPresent, self.pathology, self.malignancyProbability) = (lesionProbability, lesionPresent, pathology, malignancyProbability)
        (self.birads, self.biradsProbability, self.presenceThreshold) = (birads, biradsProbability, presenceThreshold)
    }

    /// One line for logs and captions: "P(lesion) 0.98, malignant (P(malignant) 0.83), BI-RADS 4 (0.61)".
    public var summary: String {
        var line = String(format: "P(lesion) %.2f", lesionProbability)
        if let p = pathology, let m = malignancyProbability { line += String(format: ", %@ (P(malignant) %.2f)", p, m) }
        if let b = birads, let bp = biradsProbability { line += String(format: ", BI-RADS %@ (%.2f)", b, bp) }
        return line
    }

    /// The overlay's line: `summary`, but BI-RADS only where its calibrated probability reaches
    /// `Diagnosis.biradsCaptionFloor` (a category at 0.3-0.4 over four classes is a guess a reader should not see
    /// printed on the image; the summary keeps it with its probability).
    public var caption: String {
        var line = String(format: "P(lesion) %.2f", lesionProbability)
        if let p = pathology, let m = malignancyProbability { line += String(format: ", %@ (P(malignant) %.2f)", p, m) }
        if let b = birads, let bp = biradsProbability, bp >= Self.biradsCaptionFloor { line += String(format: ", BI-RADS %@ (%.2f)", b, bp) }
        return line
    }

    /// The calibrated probability below which the overlay leaves BI-RADS out.
    public static let biradsCaptionFloor = 0.5
}

/// What `segment` asks of a diagnosis, whatever makes it (the bundle in `models/diagnosis`, SonoDiagnosis): per
/// image, lesion presence, pathology and BI-RADS from the image, the segmenter's probability map and its mask.
public protocol ImageDiagnoser {
    /// Where the diagnosis was made, for messages.
    var folder: URL { get }
    /// The SHA-256 of the segmenter whose maps it was calibrated on ("" when none).
    var segmenterSHA256: String { get }
    /// `presenceThreshold` replaces its own lesion-presence cut-off for this call.
    func diagnose(image: GrayImage, probability: GrayImage, mask: Mask, presenceThreshold: Double?) throws -> Diagnosis
}
