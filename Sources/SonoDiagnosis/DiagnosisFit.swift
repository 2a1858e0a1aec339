import SonoConvNets
import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoData
import SonoImaging
import SonoNN

/// Images of one dataset for fitting or scoring a diagnosis bundle.
public struct DiagnosisImages: Codable, Sendable, Equatable {
    public enum Part: String, Codable, Sendable {
        /// The split's test images.
        case test
        /// The split's validation images (fold 0).
        case validation
        /// Everything but the test images (for images no network trained on, e.g. BUSI normals).
        case development
        case all
    }
    public var path: String
    public var split: String?
    public var part = Part.validation
    /// Only these classes (e.g. ["normal"]); nil: all.
    public var classes: [String]? = nil

    public init(path: String, split: String?, part: Part, classes: [String]? = nil) {
        (self.path, self.split, self.part, self.classes) = (path, split, part, classes)
    }

    enum CodingKeys: String, CodingKey { case path, split, part, classes }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        try c.read(.split, into: &split); try c.read(.part, into: &part); try c.read(.classes, into: &classes)
    }

    func samples() throws -> [Sample] {
        var out: [Sample]
        switch part {
        case .test: out = try evaluationSamples(path: path, split: split, part: .test)
        case .validation: out = try evaluationSamples(path: path, split: split, part: .validation)
        case .all: out = try evaluationSamples(path: path, split: nil, part: .all)
        case .development:
            let test = Set(try evaluationSamples(path: path, split: split, part: .test).map(\.id))
            out = try evaluationSamples(path: path, split: nil, part: .all).filter { !test.contains($0.id) }
        }
        if let classes { out = out.filter { classes.contains($0.className ?? "") } }
        return out
    }
}

/// How a diagnosis bundle is made (`recipes/diagnosis/bundle.json`): the trained networks, and the held-out
/// images on which their probabilities are calibrated and lesion presence is fitted.
public struct DiagnosisRecipe: Codable, Sendable, Equatable {
    /// The segmenter whose maps give presence and the classifiers' windows ("default": the bundled model).
    public var segmenter = "default"
    /// Pathology classifiers (model files or run folders; one, or several whose probabilities are averaged).
    public var pathology: [String]
    /// BI-RADS classifiers, likewise.
    public var birads: [String]?
    /// Whole-image lesion/normal classifier whose logit joins the presence features (optional). Calibrate on
    /// images it did not train on.
    public var presenceClassifier: String?
    /// Images for the temperatures and the presence regression (never the test images).
    public var calibration: [DiagnosisImages]
    /// Share of validation lesion images the presence threshold must keep.
    public var presenceSensitivity = 0.97
    /// What the presence regression reads (a classifier logit needs `presenceClassifier`).
    public var presenceInputs = PresenceInputs.mapAndClassifier

    public init(segmenter: String, pathology: [String], birads: [String]?, calibration: [DiagnosisImages]) {
        (self.segmenter, self.pathology, self.birads, self.calibration) = (segmenter, pathology, birads, calibration)
    }

    enum CodingKeys: String, CodingKey { case segmenter, pathology, birads, presenceClassifier, calibration, presenceSensitivity, presenceInputs }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pathology = try c.decodeOneOrMany(.pathology)
        calibration = try c.decode([DiagnosisImages].self, forKey: .calibration)
        try c.read(.segmenter, into: &segmenter); try c.read(.presenceClassifier, into: &presenceClassifier)
        birads = c.contains(.birads) ? try c.decodeOneOrMany(.birads) : nil
        try c.read(.presenceSensitivity, into: &presenceSensitivity); try c.read(.presenceInputs, into: &presenceInputs)
    }

    public static func load(_ url: URL) throws -> DiagnosisRecipe {
        let r = try RecipeFile.decode(DiagnosisRecipe.self, from: url, what: "diagnosis recipe")
        guard (0.5...1).contains(r.presenceSensitivity) else {
            throw PipelineError.invalidConfig("\(url.path): presenceSensitivity is \(r.presenceSensitivity); allowed: 0.5-1")
        }
        if r.presenceInputs == .classifier && r.presenceClassifier == nil {
            throw PipelineError.invalidConfig("\(url.path): presenceInputs \"classifier\" needs a presenceClassifier")
        }
        return r
    }
}

/// One image seen through the segmenter and the classifiers.
struct DiagnosisRow {
    var sample: Sample
    var hasLesion: Bool
    var features: PresenceFeatures
    /// Per-class probabilities of the window around the segmenter's largest region (nil for normal images).
    var pathology: [Float]?
    var birads: [Float]?
}

/// Runs the segmenter and the classifiers over `images`; lesion images only get class probabilities.
func diagnosisRows(_ images: [DiagnosisImages], segmenter: Segmenter, pathology: [LoadedModel], birads: [LoadedModel],
                   presenceClassifier: LoadedModel?, log: (String) -> Void) throws -> [DiagnosisRow] {
    var rows: [DiagnosisRow] = []
    let windows = LesionSource(segmenter)
    for set in images {
        let samples = try set.samples()
        log("\(set.path) \(set.part.rawValue)\(set.classes.map { " (\($0.joined(separator: ", ")))" } ?? ""): \(samples.count) images")
        _ = try predictSamples(segmenter, samples, flipTTA: false, onError: .fail,
                               progress: ProgressBar(total: samples.count, label: "diagnose")) { _, sample, loaded, prediction in
            let probability = prediction.lesion!
            let mask = windows.mask(from: probability)
            var row = DiagnosisRow(sample: sample, hasLesion: !loaded.mask.isEmpty,
                                   features: try PresenceFeatures(image: loaded.image, probability: probability,
                                                                  threshold: segmenter.threshold, region: mask,
                                                                  classifier: presenceClassifier))
            if row.hasLesion {
                row.pathology = try CalibratedEnsemble.mean(pathology, image: loaded.image, lesion: mask)
                if !birads.isEmpty, sample.birads != nil { row.birads = try CalibratedEnsemble.mean(birads, image: loaded.image, lesion: mask) }
            }
            rows.append(row)
            return ""
        }
    }
    return rows
}

/// The segmenter a recipe or a command names ("default": the bundled one), read by `load`: the front end passes
/// `loadSegmenter`, which knows every family; this target knows the convolutional ones only.
public func segmenterModel(_ path: String, load: (URL) throws -> Segmenter = loadModelFile) throws -> Segmenter {
    try load(path == "default" ? DefaultModel.locate() : URL(fileURLWithPath: path))
}

/// Makes a diagnosis bundle in `out`: the classifiers copied, a temperature per ensemble fitted on the calibration images,
/// the presence regression, `diagnosis.json`, and `fit.md` with the calibration images' figures.
public func fitDiagnosis(_ recipe: DiagnosisRecipe, out: URL, loadSegmenter load: (URL) throws -> Segmenter = loadModelFile,
                         log: (String) -> Void) throws -> DiagnosisManifest {
    let segmenter = try segmenterModel(recipe.segmenter, load: load)
    let pathology = try recipe.pathology.map { try LoadedModel(URL(fileURLWithPath: $0)) }
    let birads = try (recipe.birads ?? []).map { try LoadedModel(URL(fileURLWithPath: $0)) }
    for group in [pathology, birads] where Set(group.map { $0.classNames ?? [] }).count > 1 {
        throw PipelineError.invalidConfig("\(group.map(\.url.path)): ensemble members must have the same classes in the same order")
    }
    guard !pathology.isEmpty else { throw PipelineError.invalidConfig("a diagnosis recipe needs at least one pathology classifier") }
    // A regression that reads the map alone does not run the classifier at all.
    let presenceClassifier = recipe.presenceInputs == .map ? nil : try recipe.presenceClassifier.map { try LoadedModel(URL(fileURLWithPath: $0)) }
    if let m = presenceClassifier, Set(m.classNames ?? []) != ["normal", "lesion"] {
        throw PipelineError.invalidConfig("\(m.url.path): a presence classifier has classes normal and lesion, not \(m.classNames ?? [])")
    }
    for m in pathology + birads where m.info.temperature != nil {
        throw PipelineError.invalidConfig("\(m.url.path) is already calibrated; fit from the trained model")
    }
    let rows = try diagnosisRows(recipe.calibration, segmenter: segmenter, pathology: pathology, birads: birads,
                                 presenceClassifier: presenceClassifier, log: log)
    try Folders.create(out)

    // Presence: every calibration image, lesion or not. The classifiers ship at float16 (half the size;
    // `exportModel` keeps any tensor beyond f16's range in f32).
    var presence = PresenceModel.fit(rows.map(\.features), labels: rows.map(\.hasLesion),
                                     names: recipe.presenceInputs.featureNames(hasClassifier: presenceClassifier != nil))
    let presenceProbabilities = rows.map { presence.probability($0.features) }
    presence.threshold = PresenceModel.threshold(probabilities: presenceProbabilities, labels: rows.map(\.hasLesion),
                                                 sensitivity: recipe.presenceSensitivity)
    log(String(format: "presence: %d lesion and %d lesion-free images; threshold %.3f", rows.filter(\.hasLesion).count,
               rows.filter { !$0.hasLesion }.count, presence.threshold))

    var report = "# Diagnosis bundle: calibration images\n\n"
    let called = presenceProbabilities.map { [Float(presence.threshold), Float($0)] }
    if let r = try? ClassificationReport(probabilities: called, labels: rows.map { $0.hasLesion ? 1 : 0 }, classNames: ["no lesion", "lesion"]) {
        report += "## Lesion presence (threshold \(String(format: "%.3f", presence.threshold)))\n\n"
        report += MetricsMarkdown.diagnosisTable([(name: "presence", report: r)]) + "\n"
        log(String(format: "presence on the calibration images: sensitivity %.3f, specificity %.3f, AUC %.3f",
                   r.sensitivity ?? .nan, r.specificity ?? .nan, r.auc ?? .nan))
    }
    /// Fits the ensemble's temperature and copies its members (at float16) beside the manifest.
    func calibrate(_ members: [LoadedModel], probabilities: [[Float]], labels: [Int], name: String, title: String) throws -> EnsembleFiles {
        let t = TemperatureScaling.fit(logits: TemperatureScaling.logits(probabilities), labels: labels)
        let names = members[0].classNames!
        let positive = names.firstIndex(of: "malignant") ?? min(1, names.count - 1)
        let before = try ClassificationReport(probabilities: probabilities, labels: labels, classNames: names, positiveClass: positive)
        let after = try ClassificationReport(probabilities: TemperatureScaling.apply(TemperatureScaling.logits(probabilities), temperature: t),
                                             labels: labels, classNames: names, positiveClass: positive)
        log(String(format: "%@ (%d models): temperature %.3f; ECE %.3f → %.3f on %d images", title, members.count, t,
                   before.calibration?.ece ?? .nan, after.calibration?.ece ?? .nan, labels.count))
        report += "## \(title): \(members.count) model(s) averaged, temperature \(String(format: "%.3f", t))\n\n"
        report += MetricsMarkdown.diagnosisTable([(name: "before calibration", report: before), (name: "after", report: after)]) + "\n"
        let files = members.indices.map { "\(name)-\($0 + 1).safetensors" }
        for (m, file) in zip(members, files) { try exportModel(m.url, to: out.appendingPathComponent(file), dtype: .f16) }
        return EnsembleFiles(files: files, temperature: t)
    }
    let lesions = rows.filter { $0.pathology != nil && ["benign", "malignant"].contains($0.sample.className ?? "") }
    let pathologyFiles = try calibrate(pathology, probabilities: lesions.map { $0.pathology! },
                                       labels: try classLabels(lesions.map(\.sample), classNames: pathology[0].classNames!),
                                       name: "pathology", title: "Pathology")
    var biradsFiles: EnsembleFiles?
    if !birads.isEmpty {
        let graded = LabelSource.birads.relabel(rows.filter { $0.birads != nil }.map(\.sample)).samples
        let probabilities = rows.filter { $0.birads != nil }.map { $0.birads! }
        biradsFiles = try calibrate(birads, probabilities: probabilities, labels: try classLabels(graded, classNames: birads[0].classNames!),
                                    name: "birads", title: "BI-RADS")
    }
    var manifest = DiagnosisManifest(pathology: pathologyFiles, birads: biradsFiles, presence: presence,
                                     segmenterThreshold: segmenter.threshold, segmenterSHA256: try SHA256.hex(file: segmenter.url))
    if let m = presenceClassifier, presence.featureNames.contains(PresenceFeatures.classifierName) {
        try exportModel(m.url, to: out.appendingPathComponent("presence.safetensors"), dtype: .f16)
        manifest.presenceClassifier = "presence.safetensors"
    }
    try JSONFiles.write(manifest, to: out.appendingPathComponent(Diagnoser.manifestName))
    try AtomicFile.write(Data(report.utf8), to: out.appendingPathComponent("fit.md"))
    return manifest
}

extension KeyedDecodingContainer {
    /// A list of strings written as a list or, for one item, as a plain string.
    func decodeOneOrMany(_ key: Key) throws -> [String] {
        if let one = try? decode(String.self, forKey: key) { return [one] }
        return try decode([String].self, forKey: key)
    }
}
