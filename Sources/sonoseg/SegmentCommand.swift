import SonoDiagnosis
import SonoRegistry
import ArgumentParser
import Foundation
import SonoBase
import SonoData
import SonoImaging
import SonoPipeline
import SonoTensor

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment breast-ultrasound images.",
        discussion: """
        For each input STEM writes STEM_mask.png (0/255, the input's size), STEM_prob.png (lesion probability × \
        255), STEM_heatmap.png (the probability in colour with a scale bar) and STEM_overlay.png (outline, long and \
        short axes, caption), then summary.csv and summary.json with lesion measurements. \
        Without --model the bundled default model is used. The bundled diagnosis (models/diagnosis) adds to each \
        image a calibrated probability that it shows a lesion (an image called lesion-free gets an empty mask), \
        benign or malignant with the probability of malignancy, and the BI-RADS category, in the summary and the \
        overlay's caption; --no-diagnosis leaves them out. An implicit model (NISF, Byra, models/byra-local) \
        segments by latent optimisation with its own settings (K steps chosen on validation), through the same \
        path as every other model, and also writes STEM_reconstruction.png, its code head's pathology (class) and, \
        for a conditioned model, BI-RADS and pathology by latent search; `sonoseg implicit segment` takes the \
        latent-fitting options. --resolution 4x adds the mask at four times \
        the input's pixels: an implicit model reads its field at every one of them, a U-Net's probability is resized. \
        A DICOM input (each frame) also gets STEM_seg.dcm, a DICOM Segmentation, and STEM_sr.dcm, a TID 1500 \
        measurement report, with the source's patient and study attributes; --no-dicom-out leaves them out.
        """)

    @Argument(help: "Image files or folders: PNG, JPEG, BMP, TIFF, DICOM (every frame; files without an extension are checked for DICOM).")
    var inputs: [String]
    @Option(help: "Model file or folder (default: the bundled model).") var model: String?
    @Option(help: "Output folder.") var out = "sonoseg-out"
    @Option(help: "Probability threshold (default: the model's).") var threshold: Float?
    @Flag(help: "Keep only the largest lesion.") var largestComponent = false
    @Flag(help: "Do not fill holes in the mask.") var noFillHoles = false
    @Flag(help: "Test-time augmentation: average with the mirrored image.") var tta = false
    @Option(help: "Pixel spacing in mm, for sizes in mm, for files that carry none (a DICOM file's own calibration wins).") var spacing: Double?
    @Option(help: "Largest image accepted, in pixels (width × height); larger files are refused from their header.")
    var maxPixels = ImageIO.defaultMaxPixels
    @Flag(help: "Also read the folders' subfolders (outputs keep folder names where file names would collide).")
    var recursive = false
    @Option(help: "On an unreadable image: fail, or skip it (listed in skipped.csv) and go on.") var onError: ErrorPolicy = .fail
    @Option(help: ArgumentHelp("Diagnosis bundle: lesion presence, benign/malignant, BI-RADS (default: the bundled models/diagnosis).", valueName: "folder"))
    var diagnosis: String?
    @Flag(help: "Outline only: no lesion presence, pathology or BI-RADS.") var noDiagnosis = false
    @Option(help: ArgumentHelp("Lesion-presence cut-off on the calibrated probability (default: the bundle's). Below it the mask is empty and the segmenter's outline is kept as STEM_candidate_mask.png.", valueName: "p"))
    var presenceThreshold: Double?
    @Flag(help: "Add this run's rows to the summary an earlier run left in --out (its files are never overwritten); without it such a folder is refused.")
    var append = false
    @Option(help: ArgumentHelp("Only this part of the inputs, for a job split over machines: I/N (0-based), or auto to read it from Open MPI, Slurm array or Kubernetes Indexed Job variables. Images go to --out, the summary part to --out/parts/shard-I-of-N; `sonoseg merge` joins the parts.", valueName: "I/N|auto"))
    var shard: String?
    @Option(help: "With --shard auto in a Kubernetes Indexed Job: the number of shards (the Job's completions).") var shards: Int?
    @Option(help: ArgumentHelp("Also write STEM_mask_hires.png, STEM_prob_hires.png and STEM_overlay_hires.png at a factor of the input's size (4x) or at WxH. An implicit model reads its field at every output pixel; a U-Net's probability is resized bilinearly.", valueName: "4x|WxH"))
    var resolution: String?
    @Flag(help: "For DICOM inputs, no STEM_seg.dcm (DICOM Segmentation) and STEM_sr.dcm (TID 1500 measurement report); other formats never get them.")
    var noDicomOut = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        try validateThreshold(threshold)
        if let presenceThreshold, !(0...1).contains(presenceThreshold) {
            throw ValidationError("--presence-threshold must be in 0-1, got \(presenceThreshold)")
        }
        if presenceThreshold != nil && noDiagnosis { throw ValidationError("--presence-threshold needs the diagnosis; drop --no-diagnosis") }
    }

    func run() throws {
        threading.apply()
        let modelURL = try model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.locate()
        try run(with: try loadSegmenter(modelURL))
    }

    /// The one path for every model family (`sonoseg implicit segment` comes here with its latent-fit options).
    func run(with loaded: Segmenter) throws {
        var options = SegmentOptions()
        options.threshold = threshold
        options.postprocessing = MaskPostprocessing(fillHoles: !noFillHoles, largestComponent: largestComponent)
        options.flipTTA = tta
        options.pixelSpacingMM = spacing
        (options.maxPixels, options.onError) = (maxPixels, onError)
        options.highResolution = try resolution.map(OutputResolution.init(parsing:))
        (options.presenceThreshold, options.append) = (presenceThreshold, append)
        options.dicomOut = !noDicomOut
        options.shard = try shard.map { $0 == "auto" ? try Shard.fromScheduler(ProcessInfo.processInfo.environment, shards: shards) : try Shard(parsing: $0) }
        let log = stderrLog
        let images = try collectImages(inputs.map { URL(fileURLWithPath: $0) }, recursive: recursive, log: log)
        let rows = try segment(images, model: loaded, options: options, diagnoser: try diagnoser(log: log),
                               out: URL(fileURLWithPath: out), log: log)
        print("\(rows.count) images, \(rows.filter(\.lesionFound).count) with a lesion; results in \(out)/ (summary.csv, summary.json)")
    }

    /// The bundle asked for, or the bundled one (absent from a checkout without it: a note, no diagnosis).
    private func diagnoser(log: (String) -> Void) throws -> Diagnoser? {
        if noDiagnosis {
            if diagnosis != nil { throw ValidationError("--diagnosis and --no-diagnosis contradict each other") }
            return nil
        }
        let folder: URL
        if let diagnosis { folder = URL(fileURLWithPath: diagnosis) } else {
            guard let found = try? DefaultModel.locate("models/diagnosis/\(Diagnoser.manifestName)") else {
                log("no bundled diagnosis (models/diagnosis): outlines only"); return nil
            }
            folder = found.deletingLastPathComponent()
        }
        return try Diagnoser(folder)
    }
}
