import SonoConvNets
import SonoRegistry
import SonoImplicit
import ArgumentParser
import Foundation
import SonoBase
import SonoData
import SonoImaging
import SonoPipeline
import SonoTensor

/// `sonoseg implicit …`: implicit segmentation networks (NISF; Byra's BI-RADS/pathology-conditioned variant).
struct ImplicitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "implicit",
        abstract: "Implicit segmentation networks: auto-decoder training, inference by latent optimisation.",
        subcommands: [ImplicitTrain.self, ImplicitSegment.self, ImplicitEvaluate.self, ImplicitInpaint.self, ImplicitCalibrate.self])
}


/// Options of commands that fit latents.
struct LatentOptions: ParsableArguments {
    @Option(help: "Latent steps (default: the model's K, chosen on validation).") var steps: Int?
    @Option(help: "Independent fits per image; the lowest reconstruction loss is kept.") var restarts: Int?
    @Option(help: "Random pixels per image and latent step (0: all).") var points: Int?
    @Option(help: "Adam learning rate of the latent (default: the model's).") var lr: Float?
    @Option(help: "Sample the frame on a WxH grid before mapping back to the image (default: the training size).") var resolution: String?
    @Option(help: "Probability threshold (default: the model's).") var threshold: Float?
    @Option(help: "Seed of latent initialisation and point sampling.") var seed: UInt64 = 0
    @Option(name: .customLong("init"), help: "Where the latent starts: zeros, normal, or encoder (default: the model's).")
    var initialization: LatentInitialization?
    @OptionGroup var threading: ThreadOptions

    /// The model's own inference settings, changed where these options say so (they apply to every fit).
    func apply(to model: ImplicitModel) throws {
        guard let initialization else { return }
        if initialization == .encoder && model.network.encoder == nil {
            throw ValidationError("--init encoder: \(model.url?.path ?? "the model") has no encoder")
        }
        model.info.inference.initialization = initialization
    }

    /// The latent-fit settings these options give (nil fields: the model's own).
    func fit() throws -> LatentFitOptions {
        threading.apply()
        var o = LatentFitOptions()
        (o.steps, o.restarts, o.pointsPerStep, o.seed, o.learningRate) = (steps, restarts, points, seed, lr)
        if let resolution {
            let parts = resolution.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("--resolution must be WxH, e.g. 512x512, got '\(resolution)'") }
            o.resolution = (parts[0], parts[1])
        }
        return o
    }

    /// The model at `path` as a `Segmenter` with these settings.
    func segmenter(_ path: String) throws -> ImplicitSegmenter {
        let m = try ImplicitModel(contentsOf: ImplicitModel.locate(path))
        try apply(to: m)
        return ImplicitSegmenter(m, fit: try fit())
    }
}

struct ImplicitTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train an implicit network as an auto-decoder (recipes/implicit/*.json).",
        discussion: "Writes config.json, split-N.json, log.jsonl, last.safetensors (checkpoint), model.safetensors (the shipped model, with K and the validation Dice curve), dice-curve.json and summary.json to --out.")
    @Argument(help: "Recipe (JSON).") var recipe: String
    @Option(help: "Run folder.") var out: String
    @Flag(help: "Continue the run in --out from its checkpoint.") var resume = false
    @Option(help: "Training steps (overrides the recipe).") var steps: Int?
    @Option(help: "Wall-time budget in minutes (overrides the recipe).") var maxMinutes: Double?
    @Option(name: .customLong("data"), help: "Dataset folder (repeatable; overrides the recipe's).") var data: [String] = []
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        var config = try ImplicitTrainConfig.load(URL(fileURLWithPath: recipe))
        if let steps { config.steps = steps }
        if let maxMinutes { config.maxMinutes = maxMinutes }
        if !data.isEmpty { config.data = data.map { DataSource(path: $0) } }
        let s = try trainImplicit(config, folder: URL(fileURLWithPath: out), resume: resume, log: stderrLog)
        print(String(format: "%d steps in %.0fs; K = %d latent steps, validation Dice %.4f; model in %@/model.safetensors",
                     s.steps, s.seconds, s.inferenceSteps, s.validationDice, out))
    }
}

/// `sonoseg segment` with the latent-fit options: the same loop and outputs for every model.
struct ImplicitSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment", abstract: "Segment images by latent optimisation (`sonoseg segment` with the latent-fit options).",
        discussion: "Writes what `sonoseg segment` writes (masks, probabilities, overlays, summary.csv, summary.json, the diagnosis unless --no-diagnosis) plus STEM_reconstruction.png and, with --extent, the field beyond the image.")
    @Argument(help: "Image files or folders.") var inputs: [String]
    @Option(help: "Model file or run folder.") var model: String
    @Option(help: "Output folder.") var out = "sonoseg-implicit-out"
    @OptionGroup var latent: LatentOptions
    @Flag(help: "Keep only the largest lesion.") var largestComponent = false
    @Option(help: "Pixel spacing in mm, for sizes in mm, for files that carry none.") var spacing: Double?
    @Flag(help: "Also read the folders' subfolders.") var recursive = false
    @Option(help: "On an unreadable image: fail, or skip it (listed in skipped.csv) and go on.") var onError: ErrorPolicy = .fail
    @Flag(help: "Outline only: no lesion presence, pathology or BI-RADS.") var noDiagnosis = false
    @Option(help: "Also read the network beyond the image plane: sample [-E, E]² (the image is [-1, 1]²) into STEM_extended_reconstruction.png and STEM_extended_prob.png.")
    var extent: Float?

    func run() throws {
        if let extent, !(extent >= 1 && extent <= 8) { throw ValidationError("--extent must be between 1 and 8, got \(extent)") }
        let segmenter = try latent.segmenter(model)
        segmenter.fit.extent = extent
        let command = try SegmentCommand.parse(inputs + ["--out", out, "--on-error", onError.rawValue] + (recursive ? ["--recursive"] : [])
                                               + (largestComponent ? ["--largest-component"] : []) + (noDiagnosis ? ["--no-diagnosis"] : [])
                                               + (spacing.map { ["--spacing", "\($0)"] } ?? []) + (latent.threshold.map { ["--threshold", "\($0)"] } ?? []))
        try command.validate()
        try command.run(with: segmenter)
    }
}

/// `sonoseg evaluate` with the latent-fit options: the same loop and tables for every model.
struct ImplicitEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Segmentation metrics and classification on a dataset part (`sonoseg evaluate` with the latent-fit options).",
        discussion: "Writes metrics.csv, metrics.json, table.md, and where the model answers classes class-head.json, birads-by-search.json, pathology-by-search.json and classification.md.")
    @Option(help: "Model file or run folder.") var model: String
    @OptionGroup var dataset: EvaluationDataOptions
    @Option(help: "Evaluate only the first N images of the part.") var limit: Int?
    @Option(help: "Output folder (default: evaluation-PART beside the model).") var out: String?
    @Option(help: "Name of the model in the table.") var name: String?
    @Option(help: "On unreadable images: fail or skip.") var onError: ErrorPolicy = .fail
    @OptionGroup var scoring: ScoringMaskOptions
    @OptionGroup var latent: LatentOptions

    func run() throws {
        let segmenter = try latent.segmenter(model)
        var samples = try dataset.samples()
        if let limit { samples = Array(samples.prefix(limit)) }
        let e = try evaluate(segmenter, samples: samples, threshold: latent.threshold, postprocessing: scoring.postprocessing, onError: onError, log: stderrLog)
        let label = name ?? segmenter.name
        let folder = out.map { URL(fileURLWithPath: $0) } ?? segmenter.url.deletingLastPathComponent().appendingPathComponent("evaluation-\(dataset.part.rawValue)")
        try writeEvaluation(e, name: label, to: folder)
        printEvaluation(e, label: label, folder: folder)
    }
}

struct ImplicitInpaint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint", abstract: "Hide pixels (a box, or the burned-in calipers and text --auto finds), fit on the rest, fill them from the network.",
        discussion: "Writes STEM_hidden.png, STEM_inpainted.png, STEM_reconstruction.png, STEM_mask.png and STEM_overlay.png at each image's size; with --auto also STEM_annotations.png (the hidden pixels) and annotations.csv (pixels hidden per image).")
    @Argument(help: "Image files (one with --box).") var images: [String]
    @Option(help: "Hidden box x,y,w,h in image pixels.") var box: String?
    @Flag(help: "Find calipers, text and coloured marks and hide them.") var auto = false
    @Flag(help: "With --auto: only find the marks (STEM_annotations.png, annotations.csv); no fit.") var detectOnly = false
    @Option(help: "Model file or run folder.") var model: String?
    @Option(help: "Output folder.") var out = "sonoseg-inpaint-out"
    @OptionGroup var latent: LatentOptions

    func validate() throws {
        if detectOnly && !auto { throw ValidationError("--detect-only goes with --auto") }
        if model == nil && !detectOnly { throw ValidationError("--model is required to inpaint") }
        if (box == nil) == !auto { throw ValidationError("give either --box x,y,w,h or --auto") }
        if box != nil && images.count != 1 { throw ValidationError("--box takes one image, got \(images.count)") }
    }

    func run() throws {
        let m = try model.map { try ImplicitModel(contentsOf: ImplicitModel.locate($0)) }
        var options = InpaintOptions()
        (options.fit, options.threshold) = (try latent.fit(), latent.threshold)
        let folder = URL(fileURLWithPath: out)
        try Folders.create(folder)
        if let box, let m {
            let v = box.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4 else { throw ValidationError("--box must be x,y,w,h, got '\(box)'") }
            let error = try inpaintImplicit(URL(fileURLWithPath: images[0]), box: (v[0], v[1], v[2], v[3]), model: m, options: options, out: folder)
            print(String(format: "mean absolute error inside the box: %.4f (fraction of the intensity range); results in %@", error, out))
            return
        }
        let found = try inpaintAnnotations(images.map { URL(fileURLWithPath: $0) }, model: m, options: options, out: folder, log: stderrLog)
        print("\(images.count) images, \(found) with annotations; results in \(out)")
    }
}

struct ImplicitCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "Choose the latent steps K again on a dataset part (e.g. with another --lr).",
        discussion: "Fits the part's images for --max-steps steps, measures mean Dice every --every steps, stores K, the curve and the inference settings in the model (rewritten atomically, or written to --out).")
    @Option(help: "Model file or run folder.") var model: String
    @Option(help: "Dataset folder.") var data: String
    @Option(help: "Split file.") var split: String?
    @Option(help: "Which images: validation (default), test, all.") var part: EvaluationPart = .validation
    @Option(help: "Images used (default: the model's validationImages).") var images: Int?
    @Option(help: "Longest fit.") var maxSteps: Int?
    @Option(help: "Dice every this many steps.") var every: Int?
    @Option(help: "Adam learning rate of the latent.") var lr: Float?
    @Option(help: "Random pixels per image and latent step (0: all).") var points: Int?
    @Option(help: "K = the fewest steps within this Dice of the best (default: the model's).") var diceTolerance: Double?
    @Option(help: "Write the calibrated model here instead of replacing --model.") var out: String?
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        let url = ImplicitModel.locate(model)
        let m = try ImplicitModel(contentsOf: url)
        if let images { m.info.inference.validationImages = images }
        if let maxSteps { m.info.inference.maxSteps = maxSteps }
        if let every { m.info.inference.evaluateEvery = every }
        if let lr { m.info.inference.learningRate = lr }
        if let points { m.info.inference.pointsPerStep = points }
        if let diceTolerance { m.info.inference.diceTolerance = diceTolerance }
        let samples = try evaluationSamples(path: data, split: split, part: part)
        let (bank, notes) = try ImageBank.load(samples, preprocess: m.info.preprocess, network: m.info.network, cacheFolder: nil, onError: .skip)
        notes.forEach(stderrLog)
        m.calibrate(on: bank, log: stderrLog)
        let target = out.map { URL(fileURLWithPath: $0) } ?? url
        try m.save(to: target)
        print(String(format: "K = %d latent steps (lr %g), mean Dice %.4f on %d images; curve: %@; model in %@", m.info.inference.steps,
                     m.info.inference.learningRate, m.info.validationDice ?? .nan, min(bank.count, m.info.inference.validationImages > 0 ? m.info.inference.validationImages : bank.count),
                     m.info.curve.map { String(format: "%d:%.3f", $0.step, $0.dice) }.joined(separator: " "), target.path))
    }
}
extension LatentInitialization: ExpressibleByArgument {}
