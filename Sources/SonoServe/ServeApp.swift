import Foundation
import Hummingbird
import Logging
import NIOCore
import SonoBase
import SonoPipeline

/// `sonoseg serve`: loads the models once, lists the root, and answers the API and the page until SIGTERM or
/// SIGINT, then lets in-flight requests finish, removes its temporary folder and returns.
public enum ReadingRoomServer {
    /// The page's own files: served without a token (they hold no data), from `--web` or the binary's resources.
    static let pageFiles: [String: String] = ["/": "index.html", "/index.html": "index.html", "/app.js": "app.js",
                                               "/style.css": "style.css", "/favicon.svg": "favicon.svg"]

    /// Runs the server; `announce` receives the URL once it listens (the one line a user needs).
    public static func run(_ settings: ServeSettings, announce: @escaping @Sendable (String) -> Void) async throws {
        try settings.validate()
        var logger = Logger(label: "sonoseg.serve")
        logger.logLevel = .info
        removeAbandonedCaches(logger: logger)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-serve-\(getpid())-\(UUID().uuidString.prefix(8))")
        try Folders.create(cache)
        defer { try? FileManager.default.removeItem(at: cache) }

        let metrics = ServeMetrics()
        let queue = InferenceQueue(capacity: settings.queueCapacity) { depth in metrics.queueDepth.set(Double(depth)) }
        let engine = EngineHandle(engine: try Engine(settings: settings, log: { logger.notice("\($0)") }), queue: queue)
        let room = ReadingRoom(settings: settings, engine: engine, metrics: metrics, cache: cache)
        let web = try webFolder(settings)

        let listening = ListeningPort(settings.port)
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorJSONMiddleware())
        router.add(middleware: SameOriginMiddleware(settings: settings, port: { listening.value }))
        router.add(middleware: TokenMiddleware(token: settings.token, open: Set(pageFiles.keys).union(["/healthz"])))
        addRoutes(router, room: room, web: web)

        let app = Application(
            router: router,
            server: .http1(additionalChannelHandlers: [MalformedRequestHandler()]),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "SonoSeg"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                listening.value = port
                let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
                announce("SonoSeg serving \(settings.root.path) at http://\(host):\(port)/")
            },
            logger: logger
        )
        room.prefetch(room.worklist.scan().items)
        try await app.runService()
        logger.info("stopped; removing \(cache.path)")
    }

    /// The temporary folders of servers that were killed (kill -9, a power cut) before they could remove them:
    /// those whose process no longer exists.
    static func removeAbandonedCaches(logger: Logger) {
        let tmp = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix("sonoseg-serve-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let pid = Int32(parts[2]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
                logger.info("removed \(name), left by a server that was killed")
            }
        }
    }

    /// The port the server listens on, once it does (`--port 0` picks one).
    final class ListeningPort: @unchecked Sendable {
        private let lock = NSLock()
        private var port: Int
        init(_ port: Int) { self.port = port }
        var value: Int {
            get { lock.lock(); defer { lock.unlock() }; return port }
            set { lock.lock(); port = newValue; lock.unlock() }
        }
    }

    static func webFolder(_ settings: ServeSettings) throws -> URL {
        if let w = settings.webFolder { return w }
        guard let url = Bundle.module.url(forResource: "Web", withExtension: nil) else {
            throw ServeError.refused("the page's files (resource Web/) are missing beside the binary; pass --web FOLDER")
        }
        return url
    }

    static func addRoutes(_ router: Router<BasicRequestContext>, room: ReadingRoom, web: URL) {
        let settings = room.settings
        let maxBody = settings.maxUploadMB << 20

        /// The body's bytes (a 413 beyond the limit) and, for multipart, its file part's bytes and name.
        @Sendable func upload(_ request: Request) async throws -> (bytes: [UInt8], filename: String?) {
            // A declared length over the limit is refused before a byte of the body is read.
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBody {
                throw APIError(.contentTooLarge, "the body is \(declared) bytes; the limit is \(settings.maxUploadMB) MiB (--max-upload-mb)",
                               headers: [.connection: "close"])
            }
            let buffer = try await request.body.collect(upTo: maxBody)
            let body = Array(buffer.readableBytesView)
            if let boundary = try Multipart.boundary(contentType: request.headers[.contentType]) {
                let part = try Multipart.filePart(body, boundary: boundary)
                guard !part.body.isEmpty else { throw APIError.unprocessable("the multipart file part is empty") }
                return (part.body, part.filename)
            }
            guard !body.isEmpty else { throw APIError.unprocessable("empty body: send the image file's bytes") }
            return (body, nil)
        }

        // The page
        for (path, file) in pageFiles {
            router.get(RouterPath(path)) { _, _ in
                var r = try await Blocking.run { try Reply.file(web.appendingPathComponent(file)) }
                r.headers[.cacheControl] = "no-cache"
                return r
            }
        }

        router.get("/healthz") { _, _ in
            try Reply.jsonObject(["status": "ok", "queue_depth": room.engine.queue.depth, "queue_capacity": room.engine.queue.capacity])
        }
        router.get("/metrics") { _, _ in Reply.text(room.metrics.text(), type: "text/plain; version=0.0.4; charset=utf-8") }
        router.post("/v1/session") { _, _ in
            // reached only with the right token (or none needed): keep it in a cookie for <img> and /files
            var r = try Reply.jsonObject(["ok": true])
            if let token = settings.token {
                r.headers[.setCookie] = "\(TokenMiddleware<BasicRequestContext>.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
            }
            return r
        }
        router.get("/v1/models") { _, _ in try Reply.jsonObject(["notice": ResearchUse.notice, "models": room.modelList()]) }
        router.get("/v1/models/{index}/card") { _, context in
            guard let i = context.parameters.get("index", as: Int.self) else { throw APIError.notFound("no such model") }
            return Reply.text(try String(contentsOf: room.modelCard(i), encoding: .utf8), type: "text/markdown; charset=utf-8")
        }

        router.post("/v1/segment") { request, _ in
            let (bytes, partName) = try await upload(request)
            let query = request.uri.queryParameters
            var threshold: Float?
            if let t = query["threshold"] {
                guard let v = Float(String(t)), v.isFinite, (0...1).contains(v) else { throw APIError.badRequest("threshold must be a number in [0, 1]") }
                threshold = v
            }
            let name = UploadName.sanitise(query["filename"].map(String.init) ?? partName)
            return try Reply.jsonObject(try await room.segmentUpload(bytes: bytes, filename: name, threshold: threshold))
        }
        router.get("/v1/results/{id}/{file}") { _, context in
            let url = try room.resultFile(id: context.parameters.get("id") ?? "", file: context.parameters.get("file") ?? "")
            return try await Blocking.run { try Reply.file(url) }
        }

        router.get("/v1/worklist") { _, _ in
            let (items, reports) = try await Blocking.run { room.worklist.scan() }
            var rows: [[String: Any]] = []
            for item in items { rows.append(await room.summary(item)) }
            return try Reply.jsonObject(["root": settings.root.lastPathComponent, "items": rows,
                                         "reports": reports.map { "/files/" + ReadingRoom.percentEncoded($0) }, "notice": ResearchUse.notice])
        }
        router.post("/v1/uploads") { request, _ in
            let (bytes, partName) = try await upload(request)
            let name = UploadName.sanitise(request.uri.queryParameters["filename"].map(String.init) ?? partName)
            var rows: [[String: Any]] = []
            for item in try await room.addUpload(bytes: bytes, filename: name) { rows.append(await room.summary(item)) }
            return try Reply.jsonObject(["items": rows], status: .created)
        }
        router.get("/v1/items/{id}") { _, context in
            try Reply.jsonObject(try await room.detail(try await room.item(context.parameters.get("id") ?? "")))
        }
        router.get("/v1/items/{id}/image") { _, context in
            let item = try await room.item(context.parameters.get("id") ?? "")
            let (frames, index) = try await room.frames(item)
            return try await Blocking.run { try Reply.file(frames.images[index]) }
        }
        router.get("/v1/items/{id}/thumbnail") { _, context in
            let item = try await room.item(context.parameters.get("id") ?? "")
            let (frames, index) = try await room.frames(item)
            return try await Blocking.run { try Reply.file(frames.thumbnails[index]) }
        }
        router.get("/v1/items/{id}/mask") { request, context in
            let item = try await room.item(context.parameters.get("id") ?? "")
            let source = request.uri.queryParameters["source"].map(String.init) ?? "current"
            guard source == "current" || source == "model" else { throw APIError.badRequest("source must be current or model") }
            let url = try await room.picture(item, "mask", current: source == "current")
            return try await Blocking.run { try Reply.file(url) }
        }
        router.get("/v1/items/{id}/probability") { _, context in
            let url = try await room.picture(try await room.item(context.parameters.get("id") ?? ""), "prob")
            return try await Blocking.run { try Reply.file(url) }
        }
        router.get("/v1/items/{id}/overlay") { _, context in
            let url = try await room.picture(try await room.item(context.parameters.get("id") ?? ""), "overlay")
            return try await Blocking.run { try Reply.file(url) }
        }
        router.post("/v1/items/{id}/measure") { request, context in
            let item = try await room.item(context.parameters.get("id") ?? "")
            let body = try await request.body.collect(upTo: maxBody)
            return try Reply.json(try await room.measure(item, maskPNG: Array(body.readableBytesView)))
        }
        router.post("/v1/items/{id}/review") { request, context in
            let item = try await room.item(context.parameters.get("id") ?? "")
            let body = try await request.body.collect(upTo: maxBody)
            return try Reply.json(try await room.review(item, body: Array(body.readableBytesView)))
        }

        router.get("/files/**") { request, context in
            let raw = context.parameters.getCatchAll().joined(separator: "/")
            let path = raw.removingPercentEncoding ?? raw
            // what runs leave for people to read: reports, pictures, tables; never hidden files or anything else
            let readable: Set<String> = ["html", "png", "jpg", "jpeg", "svg", "csv", "json", "md", "txt"]
            guard readable.contains((path as NSString).pathExtension.lowercased()) else {
                throw APIError(.forbidden, "only reports, pictures and tables are served from the root (.html, .png, .jpg, .svg, .csv, .json, .md, .txt)")
            }
            return try await Blocking.run { try Reply.file(try PathGuard.confine(path, to: settings.root)) }
        }
    }
}
