import ArgumentParser
import Foundation
import SonoPipeline

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment breast-ultrasound images.",
        discussion: """
        For each input STEM writes STEM_mask.png (0/255, the input's size), STEM_prob.png (lesion probability) \
        and STEM_overlay.png (outline on the image), then summary.csv and summary.json with lesion measurements. \
        Without --model the bundled default model is used.
        """)

    @Argument(help: "Image files or folders.") var inputs: [String]
    @Option(help: "Model file or folder (default: the bundled model).") var model: String?
    @Option(help: "Output folder.") var out = "sonoseg-out"
    @Option(help: "Probability threshold (default: the model's).") var threshold: Float?
    @Flag(help: "Keep only the largest lesion.") var largestComponent = false
    @Flag(help: "Do not fill holes in the mask.") var noFillHoles = false
    @Flag(help: "Test-time augmentation: average with the mirrored image.") var tta = false
    @Option(help: "Pixel spacing in mm, for sizes in mm.") var spacing: Double?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { Parallel.threads = threads }
        let modelURL = try model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.locate()
        let loaded = try LoadedModel(modelURL)
        var options = SegmentOptions()
        options.threshold = threshold
        options.largestComponent = largestComponent
        options.fillHoles = !noFillHoles
        options.flipTTA = tta
        options.pixelSpacingMM = spacing
        let log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        let images = try collectImages(inputs.map { URL(fileURLWithPath: $0) }, log: log)
        let rows = try segment(images, model: loaded, options: options, out: URL(fileURLWithPath: out), log: log)
        print("\(rows.count) images, \(rows.filter(\.lesionFound).count) with a lesion; results in \(out)/ (summary.csv, summary.json)")
    }
}
