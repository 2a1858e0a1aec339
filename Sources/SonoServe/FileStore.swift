import Foundation
import SonoImaging
import SonoMetrics
import SonoPipeline

/// What the server keeps of a file once read or segmented, in its cache folder (a temporary folder of its own,
/// removed when it stops): the frames as grey PNGs with thumbnails, the file's pixel spacing, and the output of
/// `segment` (masks, probabilities, overlays, summary rows). Each piece is made once per version of the file;
/// concurrent requests for the same piece wait for the one making it.
actor FileStore {
    struct Frames: Sendable {
        /// grey PNG at full size, and at most `thumbnailSize` px on its long side, per frame
        var images: [URL], thumbnails: [URL]
        var sizes: [(width: Int, height: Int)]
        var spacing: PixelSpacing?
        var spacingSource: String?
    }
    struct Segmented: Sendable {
        var folder: URL
        /// one per frame, in frame order
        var rows: [LesionSummary]
        /// the output stem of the file alone (what `segment FILE` names its outputs)
        var stem: String
        func stem(frame: Int?) -> String { frame.map { stem + String(format: "_f%03d", $0) } ?? stem }
        func row(frame: Int?) -> LesionSummary? { rows.first { $0.frame == frame } ?? (frame == nil ? rows.first : nil) }
    }

    static let thumbnailSize = 160
    let cache: URL
    let maxPixels: Int
    private var frames: [String: Task<Frames, Error>] = [:]
    private var segmented: [String: Task<Segmented, Error>] = [:]
    private var done: [String: Segmented] = [:]

    init(cache: URL, maxPixels: Int) { (self.cache, self.maxPixels) = (cache, maxPixels) }

    func folder(_ key: String) -> URL { cache.appendingPathComponent("files").appendingPathComponent(key) }

    /// The file's frames as PNGs (decoded off the inference thread).
    func frames(_ item: WorkItem) async throws -> Frames {
        if let t = frames[item.fileKey] { return try await t.value }
        let folder = self.folder(item.fileKey).appendingPathComponent("frames")
        let (url, maxPixels) = (item.input.url, self.maxPixels)
        let task = Task.detached(priority: .userInitiated) { () throws -> Frames in
            let scan = try ImageIO.readScan(url, maxPixels: maxPixels)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var out = Frames(images: [], thumbnails: [], sizes: [],
                             spacing: scan.spacingMM.map { PixelSpacing(x: $0.x, y: $0.y) }, spacingSource: scan.spacingSource)
            for (j, frame) in scan.frames.enumerated() {
                let grey = GrayConversion(frame).image
                let image = folder.appendingPathComponent(String(format: "f%03d.png", j + 1))
                let thumb = folder.appendingPathComponent(String(format: "f%03d_thumb.png", j + 1))
                try ImageIO.writePNG(grey, to: image)
                let scale = Double(Self.thumbnailSize) / Double(max(grey.width, grey.height))
                let small = scale < 1 ? grey.resized(width: max(1, Int((Double(grey.width) * scale).rounded())),
                                                     height: max(1, Int((Double(grey.height) * scale).rounded()))) : grey
                try ImageIO.writePNG(small, to: thumb)
                out.images.append(image); out.thumbnails.append(thumb); out.sizes.append((grey.width, grey.height))
            }
            return out
        }
        frames[item.fileKey] = task
        do { return try await task.value } catch { frames[item.fileKey] = nil; throw error }
    }

    /// The file segmented (each frame), through the inference queue at `priority`; the first request for a file
    /// starts it, later ones wait for the same result.
    func segmented(_ item: WorkItem, engine: EngineHandle, priority: InferenceQueue.Priority) async throws -> Segmented {
        if let d = done[item.fileKey] { return d }
        if let t = segmented[item.fileKey] {
            if priority == .interactive { engine.queue.promote(item.fileKey) }   // a background job a reader now waits for
            return try await t.value
        }
        let out = folder(item.fileKey).appendingPathComponent("out")
        let (input, key) = (item.input, item.fileKey)
        let task = Task { () throws -> Segmented in
            let rows = try await engine.run(priority, key: key) { engine in try engine.segment(input, out: out) }
            return Segmented(folder: out, rows: rows, stem: outputNames([input])[0])
        }
        segmented[item.fileKey] = task
        do {
            let result = try await task.value
            done[item.fileKey] = result
            segmented[item.fileKey] = nil
            return result
        } catch {
            segmented[item.fileKey] = nil
            throw error
        }
    }

    /// The result if the file was segmented already (the worklist's columns), without starting anything.
    func ready(_ item: WorkItem) -> Segmented? { done[item.fileKey] }
}

/// The engine behind the queue: every use of the models goes through `run`.
final class EngineHandle: @unchecked Sendable {
    let queue: InferenceQueue
    private let engine: Engine
    init(engine: Engine, queue: InferenceQueue) { (self.engine, self.queue) = (engine, queue) }
    func run<T>(_ priority: InferenceQueue.Priority = .interactive, key: String? = nil, _ job: @escaping (Engine) throws -> T) async throws -> T {
        let engine = self.engine
        return try await queue.run(priority, key: key) { try job(engine) }
    }
    /// Fixed facts about the models, safe to read from any thread.
    var segmenterURL: URL { engine.segmenter.url }
    var segmenterName: String { engine.segmenter.name }
    var threshold: Float { engine.segmenter.threshold }
    var modelSHA256: String { engine.modelSHA256 }
    var diagnosisFolder: URL? { engine.diagnoser?.folder }
}
