import SonoConvNets
import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoImaging

/// Classifiers whose class probabilities are averaged, then calibrated by one temperature fitted on
/// held-out images: softmax(log(mean p) / temperature).
public struct EnsembleFiles: Codable, Sendable, Equatable {
    /// Model files beside the manifest.
    public var files: [String]
    public var temperature: Float
}

/// The files of a diagnosis bundle (`models/diagnosis/diagnosis.json`), written by `sonoseg diagnosis fit`.
public struct DiagnosisManifest: Codable, Sendable, Equatable {
    public static let currentFormat = "sonoseg.diagnosis/2"
    public var format = currentFormat
    /// Benign vs malignant: lesion-window and/or whole-image classifiers.
    public var pathology: EnsembleFiles
    /// BI-RADS category, if any.
    public var birads: EnsembleFiles?
    /// Lesion presence from the segmenter's probability map and, if given, a lesion/normal classifier (a model
    /// file beside the manifest, of the whole frame or of the segmenter region's window) whose logit is one more
    /// feature.
    public var presence: PresenceModel
    public var presenceClassifier: String? = nil
    /// The segmenter threshold the presence features were computed at.
    public var segmenterThreshold: Float
    /// SHA-256 of the segmenter the bundle was fitted with: presence is calibrated for that model's maps.
    public var segmenterSHA256: String
    /// Malignancy probability above which the pathology is called malignant.
    public var malignancyThreshold: Double = 0.5
}

/// A diagnosis bundle loaded for inference.
public final class Diagnoser: ImageDiagnoser {
    /// The segmenter the bundle's presence model was calibrated on.
    public var segmenterSHA256: String { manifest.segmenterSHA256 }
    public let folder: URL
    public let manifest: DiagnosisManifest
    let pathology: CalibratedEnsemble
    let birads: CalibratedEnsemble?
    let presenceClassifier: LoadedModel?

    public static let manifestName = "diagnosis.json"

    public init(_ folder: URL) throws {
        self.folder = folder
        let url = folder.appendingPathComponent(Self.manifestName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PipelineError.noModel("\(folder.path): no \(Self.manifestName) (a diagnosis bundle is made by `sonoseg diagnosis fit`)")
        }
        manifest = try JSONFiles.read(DiagnosisManifest.self, from: url)
        guard manifest.format == DiagnosisManifest.currentFormat else {
            throw PipelineError.noModel("\(url.path): format '\(manifest.format)' is not \(DiagnosisManifest.currentFormat)")
        }
        let p = manifest.presence, d = p.featureNames.count
        let readsClassifier = p.featureNames.contains(PresenceFeatures.classifierName)
        guard PresenceInputs.allCases.contains(where: { $0.featureNames(hasClassifier: readsClassifier) == p.featureNames }),
              readsClassifier == (manifest.presenceClassifier != nil),
              [p.mean.count, p.scale.count, p.weights.count].allSatisfy({ $0 == d }), (p.weights + p.mean + p.scale + [p.bias, p.threshold]).allSatisfy(\.isFinite),
              p.scale.allSatisfy({ $0 > 0 }), (0...1).contains(p.threshold), (0...1).contains(manifest.malignancyThreshold) else {
            throw PipelineError.noModel("\(url.path): invalid presence model (needs \(d) finite weights, positive scales, thresholds in 0-1)")
        }
        pathology = try Self.ensemble(manifest.pathology, in: folder, names: ["benign", "malignant"], manifest: url)
        birads = try manifest.birads.map { try Self.ensemble($0, in: folder, names: nil, manifest: url) }
        presenceClassifier = try manifest.presenceClassifier.map { try Self.classifier($0, in: folder, names: ["normal", "lesion"]) }
    }



    private static func ensemble(_ files: EnsembleFiles, in folder: URL, names: [String]?, manifest: URL) throws -> CalibratedEnsemble {
        guard !files.files.isEmpty, files.temperature > 0.01, files.temperature < 100 else {
            throw PipelineError.noModel("\(manifest.path): an ensemble needs files and a temperature in 0.01-100")
        }
        let members = try files.files.map { try classifier($0, in: folder, names: names) }
        guard Set(members.map { $0.classNames! }).count == 1 else {
            throw PipelineError.noModel("\(manifest.path): the members of \(files.files) order their classes differently")
        }
        return CalibratedEnsemble(members: members, temperature: files.temperature)
    }

    private static func classifier(_ name: String, in folder: URL, names: [String]?) throws -> LoadedModel {
        guard !name.contains("/") else { throw PipelineError.noModel("\(folder.path)/\(manifestName): '\(name)' must be a file beside it") }
        let m = try LoadedModel(folder.appendingPathComponent(name))
        guard m.classifies, let classes = m.classNames else { throw PipelineError.noModel("\(m.url.path): not a classifier") }
        if let names, Set(names) != Set(classes) { throw PipelineError.noModel("\(m.url.path): classes \(classes), expected \(names)") }
        return m
    }

    /// The diagnosis of `image` from the segmenter's `probability` map and the `mask` made of it (its largest
    /// region gives the classifiers' window).
    /// `presenceThreshold` replaces the bundle's cut-off (`presence.threshold`) for this call.
    public func diagnose(image: GrayImage, probability: GrayImage, mask: Mask, presenceThreshold: Double? = nil) throws -> Diagnosis {
        // The region a crop presence classifier reads is made as `diagnosis fit` made it (the bundle's threshold,
        // holes filled), not from `mask`, which follows the caller's --threshold and postprocessing. A whole-frame
        // classifier does not read it, so it is not made for one (this runs once per segmented image).
        let region = presenceClassifier?.info.preprocess.crop == nil ? mask
            : SegmentOptions().postprocessing.mask(from: probability, threshold: manifest.segmenterThreshold)
        let features = try PresenceFeatures(image: image, probability: probability, threshold: manifest.segmenterThreshold,
                                            region: region, classifier: presenceClassifier)
        let presence = manifest.presence.probability(features)
        let cutoff = presenceThreshold ?? manifest.presence.threshold
        var d = Diagnosis(lesionProbability: presence, lesionPresent: presence >= cutoff)
        d.presenceThreshold = cutoff
        guard d.lesionPresent, !mask.isEmpty else { d.lesionPresent = false; return d }
        let c = try classifyLesion(image: image, mask: mask)
        let malignant = Double(c.pathology[pathology.classNames.firstIndex(of: "malignant")!])
        (d.malignancyProbability, d.pathology) = (malignant, malignant >= manifest.malignancyThreshold ? "malignant" : "benign")
        if let b = c.birads, let names = birads?.classNames {
            let top = ClassificationReport.argmax(b)
            (d.birads, d.biradsProbability) = (names[top], Double(b[top]))
        }
        return d
    }

    /// Calibrated class probabilities of the window around `mask`'s largest region: pathology in the
    /// classifier's class order, BI-RADS in its own (nil without a BI-RADS model).
    public func classifyLesion(image: GrayImage, mask: Mask) throws -> (pathology: [Float], birads: [Float]?) {
        (try pathology.probabilities(image: image, lesion: mask), try birads?.probabilities(image: image, lesion: mask))
    }

    public var pathologyClasses: [String] { pathology.classNames }
    public var biradsClasses: [String]? { birads?.classNames }
}

/// Member classifiers averaged and calibrated (`EnsembleFiles`).
struct CalibratedEnsemble {
    var members: [LoadedModel]
    var temperature: Float

    var classNames: [String] { members[0].classNames! }

    /// The members' mean class probabilities for the image (each on its own input: a lesion window or the whole
    /// frame), before calibration.
    static func mean(_ members: [LoadedModel], image: GrayImage, lesion: Mask) throws -> [Float] {
        var sum = [Float](repeating: 0, count: members[0].classNames!.count)
        for m in members { for (i, p) in try m.classify(image: image, lesion: lesion).enumerated() { sum[i] += p } }
        return sum.map { $0 / Float(members.count) }
    }

    func probabilities(image: GrayImage, lesion: Mask) throws -> [Float] {
        let p = try Self.mean(members, image: image, lesion: lesion)
        return TemperatureScaling.apply(TemperatureScaling.logits([p]), temperature: temperature)[0]
    }
}
