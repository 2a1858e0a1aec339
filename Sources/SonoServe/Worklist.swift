import Foundation
import SonoBase
import SonoImaging
import SonoPipeline

/// One entry of the worklist: one image, or one frame of a multi-frame file, under the root.
struct WorkItem: Sendable {
    /// Opaque and URL-safe: the first 16 hex digits of the SHA-256 of the file's path under the root and the
    /// frame, so it stays while the file keeps its path (a restart, other files added beside it).
    var id: String
    var input: SegmentInput
    /// 1-based frame of a multi-frame file; nil for a single image.
    var frame: Int?
    /// The output name `segment` gives it over the whole root (`a/b`, `cine_f002`): the name its review is saved under.
    var stem: String
    /// Names the file's content (path, size, modification time), so a changed file is segmented again.
    var fileKey: String

    /// The review files' name (the training layout is flat): the stem with its folders joined by `__`, and where
    /// two items would share that name (`a/b` and `a__b`), a piece of their id after it.
    var reviewName: String
}

/// The images under the root as the worklist shows them: `segment`'s own listing (every format it reads,
/// recursively, `_mask` files left out), without the server's own folders (`reviewed/`), hidden ones, and run
/// folders (those holding a `summary.json`: their pictures are outputs, shown through their report instead).
/// A multi-frame file (DICOM cine, multi-page TIFF) gives one item per frame; frame counts are read once per
/// file version.
final class Worklist: @unchecked Sendable {
    let root: URL
    private let lock = NSLock()
    private var frameCounts: [String: Int] = [:]   // by file key
    private let maxPixels: Int

    init(root: URL, maxPixels: Int) { (self.root, self.maxPixels) = (root, maxPixels) }

    private var last: (at: Date, items: [WorkItem], reports: [String])?
    /// Bumped by `invalidate`: a listing begun before an upload is not kept as the latest.
    private var generation = 0

    /// The items now under the root (listed again when the last listing is over a second old, or after an
    /// upload), in `segment`'s order, and the run folders' reports.
    func scan() -> (items: [WorkItem], reports: [String]) {
        lock.lock()
        if let last, Date().timeIntervalSince(last.at) < 1 { lock.unlock(); return (last.items, last.reports) }
        lock.unlock()
        lock.lock(); let started = generation; lock.unlock()
        let fresh = list()
        lock.lock(); if generation == started { last = (Date(), fresh.items, fresh.reports) }; lock.unlock()
        return fresh
    }

    /// Forgets the last listing (a file was added).
    func invalidate() { lock.lock(); last = nil; generation += 1; lock.unlock() }

    private func list() -> (items: [WorkItem], reports: [String]) {
        let runFolders = Self.runFolders(under: root)
        var inputs = (try? collectImages([root], recursive: true, log: { _ in })) ?? []
        inputs.removeAll { input in
            let path = input.relativePath
            return path.hasPrefix(ReviewStore.folderName + "/") || runFolders.contains { path.hasPrefix($0 + "/") }
        }
        let names = outputNames(inputs)
        var items: [WorkItem] = []
        for (input, name) in zip(inputs, names) {
            let key = Self.fileKey(input)
            let frames = frameCount(input, key: key)
            for f in 0..<max(frames, 1) {
                let frame = frames > 1 ? f + 1 : nil
                let stem = frame.map { name + String(format: "_f%03d", $0) } ?? name
                items.append(WorkItem(id: Self.id(input.relativePath, frame: frame), input: input, frame: frame, stem: stem, fileKey: key,
                                      reviewName: stem.replacingOccurrences(of: "/", with: "__")))
            }
        }
        let shared = Dictionary(grouping: items.indices, by: { items[$0].reviewName.lowercased() }).filter { $0.value.count > 1 }
        for indices in shared.values { for i in indices { items[i].reviewName += "-" + items[i].id.prefix(8) } }
        let reports = runFolders.map { $0 + "/report.html" }
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
        return (items, reports)
    }

    func item(_ id: String) -> WorkItem? { scan().items.first { $0.id == id } }

    static func id(_ relativePath: String, frame: Int?) -> String {
        String(SHA256.hex(Data((relativePath + (frame.map { "#\($0)" } ?? "")).utf8)).prefix(16))
    }

    static func fileKey(_ input: SegmentInput) -> String {
        let a = try? FileManager.default.attributesOfItem(atPath: input.url.path)
        let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return String(SHA256.hex(Data("\(input.relativePath)\n\(size)\n\(modified)".utf8)).prefix(24))
    }

    /// Frames in the file: 1 for PNG, JPEG and BMP; DICOM and TIFF are read (once per version of the file).
    /// An unreadable file still shows as one item, whose opening then says why.
    private func frameCount(_ input: SegmentInput, key: String) -> Int {
        let ext = input.url.pathExtension.lowercased()
        if ["png", "jpg", "jpeg", "bmp"].contains(ext) { return 1 }
        lock.lock()
        if let n = frameCounts[key] { lock.unlock(); return n }
        lock.unlock()
        let n = (try? ImageIO.readScan(input.url, maxPixels: maxPixels).frames.count) ?? 1
        lock.lock(); frameCounts[key] = n; lock.unlock()
        return n
    }

    /// Folders under `root` (relative paths) that hold a run's `summary.json`.
    static func runFolders(under root: URL) -> [String] {
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]) else { return [] }
        var found: [String] = []
        let base = root.standardizedFileURL.path
        for case let url as URL in e where url.lastPathComponent == "summary.json" {
            let folder = url.deletingLastPathComponent().standardizedFileURL.path
            if folder.count > base.count { found.append(String(folder.dropFirst(base.count + 1))) }
        }
        return found.sorted()
    }
}
