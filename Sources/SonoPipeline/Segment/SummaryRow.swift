import SonoMetrics
import Foundation
import SonoBase

/// One row of `summary.csv` / `summary.json`: one image (or one frame of a multi-frame file). Each field is
/// written here once: its `CodingKeys` name is the JSON key and the CSV column (`CSVRows`), in this order.
public struct LesionSummary: Codable, Sendable, Equatable {
    /// The file's name (`input` below holds its path).
    public var image: String
    /// Frame number (1-based) within a multi-frame file (DICOM cine); nil for a single image.
    public var frame: Int? = nil
    public var width: Int
    public var height: Int
    public var lesionFound: Bool
    public var areaPixels: Int
    public var areaMM2: Double?
    public var maxDiameterPixels: Double
    public var maxDiameterMM: Double?
    /// The short axis (longest chord perpendicular to the long axis, the maximum diameter), depth of the lesion's
    /// top below the image's top row (the skin line), and height / width (above 1: taller than wide); see
    /// `LesionMeasurements`.
    public var shortAxisPixels: Double = 0
    public var shortAxisMM: Double? = nil
    public var depthPixels: Double? = nil
    public var depthMM: Double? = nil
    public var tallerThanWide: Double? = nil
    /// Where the mm values' pixel size came from: the file ("ultrasound regions", "pixel spacing", "imager pixel
    /// spacing") or "--spacing"; nil: sizes in pixels only.
    public var spacingSource: String? = nil
    /// The lesion's bounding box in pixels (nil without a lesion).
    public var boundingBox: Box?
    /// Major-axis angle in degrees, counter-clockwise on screen from the x axis, in [0, 180); nil for round lesions.
    public var orientationDegrees: Double?
    public var components: Int
    public var meanProbability: Double
    /// The model's own classification head (a task model's, an implicit network's code head): the predicted
    /// class and its probability; nil without one.
    public var className: String? = nil
    public var classProbability: Double? = nil
    /// The diagnosis bundle (`models/diagnosis`), when it ran: calibrated probability of a lesion, pathology
    /// with the probability of malignancy, BI-RADS with its probability.
    public var lesionProbability: Double? = nil
    public var pathology: String? = nil
    public var malignancyProbability: Double? = nil
    public var birads: String? = nil
    public var biradsProbability: Double? = nil
    /// Which model made the row, at which threshold, with which SonoSeg, when (ISO 8601, UTC).
    public var model = ""
    public var modelSHA256 = ""
    public var threshold: Float = 0
    public var sonosegVersion = SonoSegVersion.current
    public var processedAt = ""

    /// Columns added after the provenance, so that earlier columns keep their places: whether the file's colour
    /// channels differed (a colour overlay burned in), and the seconds the image took.
    public var channelsDiffered: Bool
    public var seconds: Double
    /// A conditioned implicit network's classification by latent search, and an implicit network's
    /// reconstruction loss (nil for other models).
    public var biradsBySearch: String? = nil
    public var pathologyBySearch: String? = nil
    public var reconstructionLoss: Double? = nil
    /// The file's path relative to the folder given to `segment` (its name, for a file given directly): names the
    /// row uniquely and mirrors the output files' names.
    public var input: String = ""
    /// The lesion-presence cut-off the diagnosis used; where the calibrated `lesion_probability` fell below it,
    /// the outline the segmenter drew is not in STEM_mask.png but in STEM_candidate_mask.png, with its area here
    /// (nil: nothing was suppressed).
    public var presenceThreshold: Double? = nil, suppressedAreaPixels: Int? = nil
    /// The run that wrote the row (`--append` adds runs to one summary).
    public var runID: String? = nil
    /// A DICOM input's Study, Series and SOP Instance UIDs (with `frame`, the row's place in the examination);
    /// no patient name or ID is ever written.
    public var studyInstanceUID: String? = nil, seriesInstanceUID: String? = nil, sopInstanceUID: String? = nil
    /// A DICOM input's objects out (`--no-dicom-out` turns them off): the DICOM Segmentation and the TID 1500
    /// Measurement Report written beside the PNGs (paths relative to the output folder) and their SOP Instance
    /// UIDs; or why none were written (`dicom_refused`: the source lacks a UID to reference, …).
    public var dicomSEG: String? = nil, dicomSR: String? = nil, dicomSEGUID: String? = nil, dicomSRUID: String? = nil
    public var dicomRefused: String? = nil

    public struct Box: Codable, Sendable, Equatable, CSVPlaceholder {
        public var x: Int, y: Int, w: Int, h: Int
        public init(x: Int, y: Int, w: Int, h: Int) { (self.x, self.y, self.w, self.h) = (x, y, w, h) }
        public static let placeholder = Box(x: 0, y: 0, w: 0, h: 0)
    }

    enum CodingKeys: String, CodingKey {
        case image, frame, width, height, lesionFound = "lesion_found", areaPixels = "area_px", areaMM2 = "area_mm2"
        case maxDiameterPixels = "max_diameter_px", maxDiameterMM = "max_diameter_mm"
        case shortAxisPixels = "short_axis_px", shortAxisMM = "short_axis_mm", depthPixels = "depth_px", depthMM = "depth_mm"
        case tallerThanWide = "taller_than_wide", spacingSource = "spacing_source", boundingBox = "bbox"
        case orientationDegrees = "orientation_deg", components, meanProbability = "mean_probability"
        case className = "class", classProbability = "class_probability"
        case lesionProbability = "lesion_probability", pathology, malignancyProbability = "malignancy_probability", birads
        case biradsProbability = "birads_probability"
        case model, modelSHA256 = "model_sha256", threshold, sonosegVersion = "sonoseg_version", processedAt = "processed_at"
        case channelsDiffered = "channels_differed", seconds
        case biradsBySearch = "birads_by_search", pathologyBySearch = "pathology_by_search", reconstructionLoss = "reconstruction_loss"
        case input, presenceThreshold = "presence_threshold", suppressedAreaPixels = "suppressed_area_px", runID = "run_id"
        case studyInstanceUID = "study_instance_uid", seriesInstanceUID = "series_instance_uid", sopInstanceUID = "sop_instance_uid"
        case dicomSEG = "dicom_seg", dicomSR = "dicom_sr", dicomSEGUID = "dicom_seg_uid", dicomSRUID = "dicom_sr_uid", dicomRefused = "dicom_refused"
    }

    /// A row with no lesion: the CSV header's template, and the start of every row.
    public init(image: String, width: Int, height: Int) {
        (self.image, self.width, self.height) = (image, width, height)
        (lesionFound, areaPixels, maxDiameterPixels, components, meanProbability, channelsDiffered, seconds) = (false, 0, 0, 0, 0, false, 0)
    }
}

/// summary.json and summary.csv (a row per image), lesions.json and lesions.csv (a row per lesion), and README.txt
/// (what the files hold, and the research-use notice), each atomically: the same rows, the same names.
func writeSummaries(_ rows: [LesionSummary], lesions: [LesionRow], to out: URL) throws {
    try JSONFiles.write(rows, to: out.appendingPathComponent("summary.json"))
    try AtomicFile.write(Data(summaryCSV(rows).utf8), to: out.appendingPathComponent("summary.csv"))
    try JSONFiles.write(lesions, to: out.appendingPathComponent("lesions.json"))
    try AtomicFile.write(Data(CSVRows.csv(lesions, template: LesionRow.template).utf8), to: out.appendingPathComponent("lesions.csv"))
    try AtomicFile.write(Data(SummaryReadme.text.utf8), to: out.appendingPathComponent("README.txt"))
}

/// README.txt beside every summary: what a reader must know before reading the rows.
enum SummaryReadme {
    static let text = """
    \(ResearchUse.notice) SonoSeg's outlines, measurements and diagnoses are research outputs: they have not
    been cleared for clinical use and must not guide a patient's care.

    summary.csv / summary.json: one row per image (per frame of a multi-frame file). `input` is the file's path
    relative to the folder given; its outputs are INPUT-STEM_mask.png, _prob.png, _heatmap.png, _overlay.png.
    lesion_found is the decision; lesion_probability is the calibrated probability that the image shows a lesion,
    presence_threshold the cut-off it was compared with. Where it fell below, STEM_mask.png is empty and the
    outline the segmenter drew is kept in STEM_candidate_mask.png (dashed orange on the overlay), its area in
    suppressed_area_px. Axes, depth and box are the largest lesion's; components counts the lesions.
    lesions.csv / lesions.json: one row per connected lesion, largest first, each measured on its own.
    Sizes are in pixels, and in mm where the file carried a calibration or --spacing gave one (spacing_source).
    DICOM inputs carry study_instance_uid, series_instance_uid, sop_instance_uid and frame, to trace a row to its
    examination; no patient name or ID is written.
    DICOM inputs also get STEM_seg.dcm (DICOM Segmentation) and STEM_sr.dcm (TID 1500 Measurement Report), named in
    dicom_seg and dicom_sr with their SOP Instance UIDs (dicom_seg_uid, dicom_sr_uid); they carry the source's
    patient and study attributes, as the source does. dicom_refused says why a DICOM input got none.
    model, model_sha256, threshold, sonoseg_version, processed_at and run_id say how each row was made.

    """
}

func summaryCSV(_ rows: [LesionSummary]) throws -> String {
    try CSVRows.csv(rows, template: LesionSummary(image: "", width: 0, height: 0))
}

/// SonoSeg's release, written into every result (`sonoseg --version`).
public enum SonoSegVersion {
    public static let current = "0.10.0"
}

/// What every summary row records about how it was made.
struct Provenance {
    var model: String
    var sha256: String
    var threshold: Float

    init(model: Segmenter, threshold: Float) {
        self.model = model.url.path
        sha256 = (try? SHA256.hex(rememberedFile: model.url)) ?? ""
        self.threshold = threshold
    }

    func stamp(_ row: inout LesionSummary) {
        (row.model, row.modelSHA256, row.threshold) = (model, sha256, threshold)
        row.processedAt = ISO8601DateFormatter().string(from: Date())
    }
}
