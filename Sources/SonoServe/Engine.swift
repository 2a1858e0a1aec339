import Foundation
import SonoBase
import SonoDiagnosis
import SonoImaging
import SonoPipeline
import SonoRegistry

/// The models, loaded once, and the one way the server segments a file: `SonoPipeline.segment`, the function
/// behind `sonoseg segment`, into a folder of its own, so every row, mask and overlay the API serves has the
/// bytes the command line writes for the same file, model and options. Used only on the inference thread.
final class Engine {
    let segmenter: Segmenter
    let diagnoser: Diagnoser?
    let options: SegmentOptions
    let modelSHA256: String

    init(settings: ServeSettings, log: (String) -> Void) throws {
        let modelURL = try settings.model ?? DefaultModel.locate()
        segmenter = try loadSegmenter(modelURL)
        guard segmenter.segments else {
            throw ServeError.refused("\(segmenter.url.path) is a classifier without a segmentation output; serve a segmentation model")
        }
        if !settings.diagnosis {
            diagnoser = nil
        } else if let folder = settings.diagnosisFolder {
            diagnoser = try Diagnoser(folder)
        } else if let found = try? DefaultModel.locate("models/diagnosis/\(Diagnoser.manifestName)") {
            diagnoser = try Diagnoser(found.deletingLastPathComponent())
        } else {
            log("no bundled diagnosis (models/diagnosis): outlines only")
            diagnoser = nil
        }
        var options = SegmentOptions()
        options.maxPixels = settings.maxPixels
        // The reading room serves PNGs and rows, not DICOM objects: no SEG/SR (with the patient's attributes) in its cache.
        options.dicomOut = false
        self.options = options
        modelSHA256 = (try? SHA256.hex(rememberedFile: segmenter.url)) ?? ""
    }

    /// Segments one file into `out` (a new folder) as `sonoseg segment FILE --out out` would, and returns its
    /// rows (one per frame).
    func segment(_ input: SegmentInput, threshold: Float? = nil, out: URL) throws -> [LesionSummary] {
        var options = self.options
        options.threshold = threshold
        return try SonoPipeline.segment([input], model: segmenter, options: options, diagnoser: diagnoser, out: out, log: { _ in })
    }
}
