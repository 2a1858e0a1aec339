import Foundation
import SonoBase
import SonoImaging
import SonoPipeline

/// What a reader saved for an item: the training pair and who made it, with which model and threshold.
struct ReviewRecord: Codable, Sendable {
    var input: String
    var frame: Int?
    var stem: String
    /// `reviewed`: the model's outline accepted as it was; `corrected`: the reader changed it.
    var status: String
    var reader: String
    var savedAt: String
    var model: String
    var modelSHA256: String
    var threshold: Float
    var imagePath: String
    var maskPath: String
    var modelAreaPixels: Int
    var areaPixels: Int
    /// Pixels where the saved mask differs from the model's.
    var changedPixels: Int
    var sonosegVersion = SonoSegVersion.current

    enum CodingKeys: String, CodingKey {
        case input, frame, stem, status, reader, savedAt = "saved_at", model, modelSHA256 = "model_sha256", threshold
        case imagePath = "image_path", maskPath = "mask_path", modelAreaPixels = "model_area_px", areaPixels = "area_px"
        case changedPixels = "changed_pixels", sonosegVersion = "sonoseg_version"
    }
}

/// The readers' reviews, saved under `ROOT/reviewed/` in the `images/` + `masks/` layout that `sonoseg train`
/// and `dataset inspect` read (`reviewed/images/NAME.png`, `reviewed/masks/NAME.png`), with a record per item in
/// `reviewed/records/NAME.json`. Every file is written atomically (a temporary file renamed into place), so a
/// server killed mid-save leaves each file old or new, never torn; the record goes last, so a record always
/// describes masks that were written. Saves are taken one at a time.
final class ReviewStore: @unchecked Sendable {
    static let folderName = "reviewed"
    let folder: URL
    private let lock = NSLock()
    private var records: [String: ReviewRecord] = [:]   // by review name

    init(root: URL) {
        folder = root.appendingPathComponent(Self.folderName)
        // A server killed mid-save leaves its temporary files (`.NAME.UUID.tmp`, never the files themselves): gone.
        for sub in ["images", "masks", "records"] { AtomicFile.removeLeftovers(in: folder.appendingPathComponent(sub)) }
        // Reviews saved by an earlier server (or copied in) count from the start.
        let recordsFolder = folder.appendingPathComponent("records")
        for url in (try? FileManager.default.contentsOfDirectory(at: recordsFolder, includingPropertiesForKeys: nil)) ?? []
        where url.pathExtension == "json" {
            if let r = try? JSONFiles.read(ReviewRecord.self, from: url) { records[url.deletingPathExtension().lastPathComponent] = r }
        }
    }

    func record(_ item: WorkItem) -> ReviewRecord? {
        lock.lock(); defer { lock.unlock() }
        return records[item.reviewName]
    }

    func maskURL(_ item: WorkItem) -> URL { folder.appendingPathComponent("masks/\(item.reviewName).png") }

    /// Saves `mask` (the reader's) for `item`, whose frame is the PNG at `image` and whose model mask is `modelMask`.
    func save(_ item: WorkItem, image: URL, mask: Mask, modelMask: Mask, reader: String, edited: Bool?,
              model: String, modelSHA256: String, threshold: Float) throws -> ReviewRecord {
        lock.lock(); defer { lock.unlock() }
        let changed = zip(mask.pixels, modelMask.pixels).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
        let name = item.reviewName
        let imagePath = "\(Self.folderName)/images/\(name).png", maskPath = "\(Self.folderName)/masks/\(name).png"
        for sub in ["images", "masks", "records"] { try Folders.create(folder.appendingPathComponent(sub)) }
        try AtomicFile.write(try Data(contentsOf: image), to: folder.appendingPathComponent("images/\(name).png"))
        try AtomicFile.write(try ImageIO.encodePNG(mask.toImage()), to: folder.appendingPathComponent("masks/\(name).png"))
        let record = ReviewRecord(input: item.input.relativePath, frame: item.frame, stem: item.stem,
                                  status: (edited ?? (changed > 0)) ? "corrected" : "reviewed", reader: reader,
                                  savedAt: ISO8601DateFormatter().string(from: Date()), model: model, modelSHA256: modelSHA256,
                                  threshold: threshold, imagePath: imagePath, maskPath: maskPath, modelAreaPixels: modelMask.area,
                                  areaPixels: mask.area, changedPixels: changed)
        try JSONFiles.write(record, to: folder.appendingPathComponent("records/\(name).json"))
        records[name] = record
        return record
    }
}
