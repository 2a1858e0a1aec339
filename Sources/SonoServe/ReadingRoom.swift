import Foundation
import Hummingbird
import Logging
import SonoBase
import SonoImaging
import SonoMetrics
import SonoPipeline

/// The server's state and what each route does with it: the models behind the queue (`engine`), the worklist
/// under the root, the cache of frames and results, the readers' reviews, the metrics.
final class ReadingRoom: @unchecked Sendable {
    let settings: ServeSettings
    let engine: EngineHandle
    let worklist: Worklist
    let store: FileStore
    let reviews: ReviewStore
    let metrics: ServeMetrics
    /// The server's own temporary folder (frames, results, uploads in transit); removed when it stops.
    let cache: URL
    private let lock = NSLock()
    private var results: [String] = []          // /v1/segment result ids, oldest first
    private var meanInferenceSeconds = 1.0

    init(settings: ServeSettings, engine: EngineHandle, metrics: ServeMetrics, cache: URL) {
        (self.settings, self.engine, self.metrics, self.cache) = (settings, engine, metrics, cache)
        worklist = Worklist(root: settings.root, maxPixels: settings.maxPixels)
        store = FileStore(cache: cache, maxPixels: settings.maxPixels)
        reviews = ReviewStore(root: settings.root)
        // an upload that a killed server had not yet named
        let uploads = settings.root.appendingPathComponent("uploads")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: uploads.path)) ?? [] where name.hasPrefix(".upload-") {
            try? FileManager.default.removeItem(at: uploads.appendingPathComponent(name))
        }
        AtomicFile.removeLeftovers(in: uploads)
    }

    // MARK: - Inference

    /// Runs `job` on the models' thread; a full queue is a 503 with a Retry-After of the expected wait.
    func infer<T>(_ priority: InferenceQueue.Priority = .interactive, _ job: @escaping (Engine) throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await engine.run(priority, job)
            let elapsed = ContinuousClock.now - start
            metrics.inferenceSeconds.record(elapsed)
            return value
        } catch let full as InferenceQueue.QueueFull {
            throw busy(full.capacity)
        }
    }

    func busy(_ capacity: Int) -> APIError {
        lock.lock(); let mean = meanInferenceSeconds; lock.unlock()
        let wait = max(1, Int((Double(capacity) * mean).rounded(.up)))
        return APIError(.serviceUnavailable, "the inference queue is full (\(capacity) waiting); retry after \(wait) s",
                        headers: [.retryAfter: String(wait)])
    }

    func noteInference(seconds: Double) {
        lock.lock(); meanInferenceSeconds = 0.8 * meanInferenceSeconds + 0.2 * seconds; lock.unlock()
    }

    // MARK: - POST /v1/segment

    /// Segments an uploaded file as `sonoseg segment FILE` does, into a result folder of its own.
    func segmentUpload(bytes: [UInt8], filename: String, threshold: Float?) async throws -> Any {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let transit = cache.appendingPathComponent("uploads/\(id)")
        let out = cache.appendingPathComponent("results/\(id)")
        try Folders.create(transit)
        defer { try? FileManager.default.removeItem(at: transit) }
        let file = transit.appendingPathComponent(filename)
        try AtomicFile.write(Data(bytes), to: file)
        let input = SegmentInput(file)
        let rows: [LesionSummary]
        let started = Date()
        do {
            rows = try await infer { engine in try engine.segment(input, threshold: threshold, out: out) }
        } catch {
            try? FileManager.default.removeItem(at: out)   // whatever went wrong, no half-written result stays
            switch error {
            case let e as APIError: throw e
            case let e as ImageError: throw APIError.unprocessable(Self.reason(e, file: file, shownAs: filename))
            case let e as PipelineError: throw APIError.unprocessable(Self.reason(e, file: file, shownAs: filename))
            default: throw error
            }
        }
        noteInference(seconds: Date().timeIntervalSince(started))
        keep(result: id)
        let stem = outputNames([input])[0]
        let lesions = (try? JSONFiles.read([LesionRow].self, from: out.appendingPathComponent("lesions.json"))) ?? []
        let objects = try rows.map { row -> [String: Any] in
            let s = row.frame.map { stem + String(format: "_f%03d", $0) } ?? stem
            let mine = try lesions.filter { $0.frame == row.frame }.map { try Reply.object($0, adding: [:]) }
            var extra: [String: Any] = ["lesions": mine]
            for (key, suffix) in [("mask_url", "mask"), ("probability_url", "prob"), ("overlay_url", "overlay"), ("heatmap_url", "heatmap")] {
                extra[key] = "/v1/results/\(id)/\(Self.percentEncoded(s))_\(suffix).png"
            }
            if FileManager.default.fileExists(atPath: out.appendingPathComponent("\(s)_candidate_mask.png").path) {
                extra["candidate_mask_url"] = "/v1/results/\(id)/\(Self.percentEncoded(s))_candidate_mask.png"
            }
            return try Reply.object(row, adding: extra)
        }
        return ["id": id, "rows": objects, "notice": ResearchUse.notice]
    }

    /// Keeps the newest `keptResults` results' pictures.
    private func keep(result id: String) {
        lock.lock()
        results.append(id)
        let old = results.count > settings.keptResults ? Array(results.prefix(results.count - settings.keptResults)) : []
        results.removeFirst(old.count)
        lock.unlock()
        for o in old { try? FileManager.default.removeItem(at: cache.appendingPathComponent("results/\(o)")) }
    }

    /// A picture of a /v1/segment result.
    func resultFile(id: String, file: String) throws -> URL {
        guard id.count == 32, id.allSatisfy({ $0.isHexDigit }) else { throw APIError.notFound("no such result") }
        let folder = cache.appendingPathComponent("results/\(id)")
        guard FileManager.default.fileExists(atPath: folder.path) else { throw APIError.notFound("no such result (results are kept for the last \(settings.keptResults) requests)") }
        guard file.hasSuffix(".png") else { throw APIError.notFound("\(PathGuard.printable(file)): results hold PNG pictures only") }
        return try PathGuard.confine(file, to: folder)
    }

    // MARK: - Worklist and items

    func item(_ id: String) async throws -> WorkItem {
        let worklist = self.worklist
        guard id.count == 16, id.allSatisfy({ $0.isHexDigit }), let item = try await Blocking.run({ worklist.item(id) }) else {
            throw APIError.notFound("no worklist item \(PathGuard.printable(id))")
        }
        return item
    }

    /// The worklist row of an item: where it is, its status, and the model's answer once it has one.
    func summary(_ item: WorkItem) async -> [String: Any] {
        var o: [String: Any] = ["id": item.id, "input": item.input.relativePath, "stem": item.stem,
                                "frame": item.frame as Any? ?? NSNull(),
                                "image_url": "/v1/items/\(item.id)/image", "thumbnail_url": "/v1/items/\(item.id)/thumbnail"]
        let review = reviews.record(item)
        o["status"] = review?.status ?? "new"
        o["reader"] = review?.reader ?? NSNull()
        o["reviewed_at"] = review?.savedAt ?? NSNull()
        let ready = await store.ready(item)
        o["segmented"] = ready != nil
        let row = ready?.row(frame: item.frame)
        o["width"] = row?.width ?? NSNull()
        o["height"] = row?.height ?? NSNull()
        o["lesion_found"] = row?.lesionFound ?? NSNull()
        o["lesion_probability"] = row?.lesionProbability ?? NSNull()
        o["pathology"] = row?.pathology ?? NSNull()
        o["malignancy_probability"] = row?.malignancyProbability ?? NSNull()
        o["birads"] = row?.birads ?? NSNull()
        return o
    }

    func frames(_ item: WorkItem) async throws -> (FileStore.Frames, Int) {
        do {
            let f = try await store.frames(item)
            let index = (item.frame ?? 1) - 1
            guard f.images.indices.contains(index) else { throw APIError.notFound("\(item.input.relativePath) has no frame \(index + 1) any more") }
            return (f, index)
        } catch let e as ImageError {
            throw APIError.unprocessable("\(item.input.relativePath): \(Self.reason(e))")
        }
    }

    func segmented(_ item: WorkItem) async throws -> FileStore.Segmented {
        do {
            return try await store.segmented(item, engine: engine, priority: .interactive)
        } catch let full as InferenceQueue.QueueFull {
            throw busy(full.capacity)
        } catch let e as ImageError {
            throw APIError.unprocessable("\(item.input.relativePath): \(Self.reason(e))")
        } catch let e as PipelineError {
            throw APIError.unprocessable("\(item.input.relativePath): \(Self.reason(e))")
        }
    }

    /// The item, its model result, its review, and its current mask measured (the calipers the page draws).
    func detail(_ item: WorkItem) async throws -> [String: Any] {
        let (frames, index) = try await frames(item)
        let seg = try await segmented(item)
        guard let row = seg.row(frame: item.frame) else { throw APIError.notFound("\(item.stem): no result for this frame") }
        var o = await summary(item)
        let stem = seg.stem(frame: item.frame)
        let probability = try ImageIO.readGray(seg.folder.appendingPathComponent("\(stem)_prob.png")).image
        let review = reviews.record(item)
        let current = review != nil ? reviews.maskURL(item) : seg.folder.appendingPathComponent("\(stem)_mask.png")
        let mask = try ImageIO.readMask(current).mask
        let lesions = MeasuredLesion.all(mask: mask, probability: probability, spacing: frames.spacing)
        o["result"] = try Reply.object(row, adding: ["lesions": try lesions.map { try Reply.object($0, adding: [:]) }])
        o["mask_url"] = "/v1/items/\(item.id)/mask"
        o["model_mask_url"] = "/v1/items/\(item.id)/mask?source=model"
        o["probability_url"] = "/v1/items/\(item.id)/probability"
        o["overlay_url"] = "/v1/items/\(item.id)/overlay"
        o["pixel_spacing_mm"] = frames.spacing.map { [$0.x, $0.y] } ?? NSNull()
        o["spacing_source"] = frames.spacingSource ?? NSNull()
        o["width"] = frames.sizes[index].width
        o["height"] = frames.sizes[index].height
        o["review"] = try review.map { try Reply.object($0, adding: [:]) } ?? NSNull()
        o["notice"] = ResearchUse.notice
        return o
    }

    /// One of the model's pictures of an item (`mask`, `prob`, `overlay`), or with `current` the review's mask.
    func picture(_ item: WorkItem, _ suffix: String, current: Bool = false) async throws -> URL {
        if current, reviews.record(item) != nil { return reviews.maskURL(item) }
        let seg = try await segmented(item)
        return seg.folder.appendingPathComponent("\(seg.stem(frame: item.frame))_\(suffix).png")
    }

    /// A mask the page sent (PNG; any non-zero pixel is lesion), checked against the item's size.
    func readMask(_ bytes: [UInt8], for item: WorkItem, size: (width: Int, height: Int)) throws -> Mask {
        let image: Image
        do { image = try ImageIO.decode(bytes, path: "mask", maxPixels: settings.maxPixels) } catch let e as ImageError {
            throw APIError.unprocessable("the mask is not a readable PNG: \(Self.reason(e))")
        }
        guard image.width == size.width, image.height == size.height else {
            throw APIError.unprocessable("the mask is \(image.width)×\(image.height) px; \(item.input.relativePath) is \(size.width)×\(size.height)")
        }
        let grey = GrayConversion(image).image
        return Mask(width: image.width, height: image.height, pixels: grey.pixels.map { $0 > 0 ? 1 : 0 })
    }

    func measure(_ item: WorkItem, maskPNG: [UInt8]) async throws -> Measurements {
        let (frames, index) = try await frames(item)
        let mask = try readMask(maskPNG, for: item, size: frames.sizes[index])
        let seg = try await segmented(item)
        let probability = try ImageIO.readGray(seg.folder.appendingPathComponent("\(seg.stem(frame: item.frame))_prob.png")).image
        return Measurements(lesionFound: mask.area > 0, areaPixels: mask.area, areaMM2: frames.spacing.map { Double(mask.area) * $0.pixelArea },
                            spacingSource: frames.spacingSource, lesions: MeasuredLesion.all(mask: mask, probability: probability, spacing: frames.spacing))
    }

    struct ReviewRequest: Decodable {
        var maskPNGBase64: String
        var reader: String?
        var edited: Bool?
        enum CodingKeys: String, CodingKey { case maskPNGBase64 = "mask_png_base64", reader, edited }
    }

    func review(_ item: WorkItem, body: [UInt8]) async throws -> ReviewRecord {
        let request: ReviewRequest
        do { request = try JSONDecoder().decode(ReviewRequest.self, from: Data(body)) } catch {
            throw APIError.badRequest("the review must be JSON {\"mask_png_base64\": …, \"reader\": …, \"edited\": …}: \(Self.reason(error))")
        }
        guard let png = Data(base64Encoded: request.maskPNGBase64, options: .ignoreUnknownCharacters), !png.isEmpty else {
            throw APIError.badRequest("mask_png_base64 is not base64")
        }
        let (frames, index) = try await frames(item)
        let mask = try readMask([UInt8](png), for: item, size: frames.sizes[index])
        let seg = try await segmented(item)
        let modelMask = try ImageIO.readMask(seg.folder.appendingPathComponent("\(seg.stem(frame: item.frame))_mask.png")).mask
        // a name as typed: spaces kept, control characters (a forged log line, a terminal escape) replaced
        let typed = request.reader?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let reader = String(typed.unicodeScalars.prefix(100).map { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) ? "?" : Character($0) })
        let row = seg.row(frame: item.frame)
        let (reviews, image, edited) = (self.reviews, frames.images[index], request.edited)
        let (model, sha, threshold) = (row?.model ?? engine.segmenterURL.path, row?.modelSHA256 ?? engine.modelSHA256, row?.threshold ?? engine.threshold)
        return try await Blocking.run {
            try reviews.save(item, image: image, mask: mask, modelMask: modelMask, reader: reader.isEmpty ? "anonymous" : String(reader),
                             edited: edited, model: model, modelSHA256: sha, threshold: threshold)
        }
    }

    // MARK: - Uploads into the worklist

    /// Saves a reader's file under ROOT/uploads/ (a new name when the name is taken: nothing is overwritten)
    /// once it reads as an image, and returns its items.
    func addUpload(bytes: [UInt8], filename: String) async throws -> [WorkItem] {
        // The bytes go to a hidden file beside their final place (the same file system: link() cannot cross one),
        // are read as an image, and only then take a name.
        let folder = settings.root.appendingPathComponent("uploads")
        try Folders.create(folder)
        let probe = folder.appendingPathComponent(".upload-\(UUID().uuidString).\((filename as NSString).pathExtension)")
        defer { try? FileManager.default.removeItem(at: probe) }
        try AtomicFile.write(Data(bytes), to: probe)
        do { _ = try ImageIO.readScan(probe, maxPixels: settings.maxPixels) } catch let e as ImageError {
            throw APIError.unprocessable(Self.reason(e, file: probe, shownAs: filename))
        }
        let ext = (filename as NSString).pathExtension, base = (filename as NSString).deletingPathExtension
        var placed: String?
        for n in 1...1000 {
            let name = n == 1 ? filename : "\(base)-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
            // link() never replaces an existing file: the name is taken atomically or not at all
            if link(probe.path, folder.appendingPathComponent(name).path) == 0 { placed = name; break }
            if errno != EEXIST { throw APIError(.internalServerError, "cannot save the upload: \(String(cString: strerror(errno)))") }
        }
        guard let placed else { throw APIError(.conflict, "\(filename): 1000 uploads of that name exist already") }
        worklist.invalidate()
        let items = worklist.scan().items.filter { $0.input.relativePath == "uploads/\(placed)" }
        guard !items.isEmpty else {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(placed))
            throw APIError.unprocessable("\(filename): saved as uploads/\(placed) but not listed (a name `segment` leaves out, such as *_mask*); rename it")
        }
        prefetch(items)
        return items
    }

    /// Segments `items` in the background (after every interactive request), so the worklist fills in.
    func prefetch(_ items: [WorkItem]) {
        let (store, engine) = (self.store, self.engine)
        Task.detached(priority: .background) {
            for item in items { _ = try? await store.segmented(item, engine: engine, priority: .background) }
        }
    }

    // MARK: - Models

    func modelList() -> [[String: Any]] {
        var list: [[String: Any]] = []
        let seg = engine.segmenterURL
        let segCard = seg.deletingLastPathComponent().appendingPathComponent("MODEL_CARD.md")
        list.append(["role": "segmenter", "name": engine.segmenterName, "path": Self.shown(seg), "sha256": engine.modelSHA256,
                     "threshold": Double(engine.threshold),
                     "card_url": FileManager.default.fileExists(atPath: segCard.path) ? "/v1/models/0/card" : NSNull()])
        if let d = engine.diagnosisFolder {
            let manifest = d.appendingPathComponent("diagnosis.json")
            let card = d.appendingPathComponent("MODEL_CARD.md")
            list.append(["role": "diagnosis", "name": d.lastPathComponent, "path": Self.shown(d),
                         "sha256": (try? SHA256.hex(file: manifest)) ?? "", "threshold": NSNull(),
                         "card_url": FileManager.default.fileExists(atPath: card.path) ? "/v1/models/1/card" : NSNull()])
        }
        return list
    }

    func modelCard(_ index: Int) throws -> URL {
        let folders = [engine.segmenterURL.deletingLastPathComponent()] + (engine.diagnosisFolder.map { [$0] } ?? [])
        guard folders.indices.contains(index) else { throw APIError.notFound("no model \(index)") }
        let card = folders[index].appendingPathComponent("MODEL_CARD.md")
        guard FileManager.default.fileExists(atPath: card.path) else { throw APIError.notFound("model \(index) has no MODEL_CARD.md") }
        return card
    }

    /// A model's path as shown: relative to the working folder when inside it.
    static func shown(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return url.path.hasPrefix(cwd) ? String(url.path.dropFirst(cwd.count)) : url.path
    }

    /// An error's sentence without the type name.
    static func reason(_ error: Error) -> String { "\(error)" }

    /// A reader's error about a file in transit, naming it as the client did, never by the server's folder.
    static func reason(_ error: Error, file: URL, shownAs name: String) -> String {
        let text = "\(error)".replacingOccurrences(of: file.path, with: name)
        return text.hasPrefix(name) ? text : "\(name): \(text)"
    }

    static func percentEncoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? s
    }
}
