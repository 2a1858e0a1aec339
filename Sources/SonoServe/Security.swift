import Foundation
import Hummingbird
import SonoBase

/// Bearer-token check on everything but the page's own files and /healthz. The token is compared through
/// SHA-256 digests, byte by byte without an early exit, so the time taken says nothing about how much of a
/// guess was right. The page may instead hold the token in an HttpOnly, SameSite=Strict cookie (set by
/// `POST /v1/session`), which lets `<img>` and a report's pictures load without a header.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    static var cookieName: String { "sonoseg_token" }
    let expected: [UInt8]?
    let open: Set<String>

    init(token: String?, open: Set<String>) {
        expected = token.map { Array(SHA256.hex(Data($0.utf8)).utf8) }
        self.open = open
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let expected, !open.contains(request.uri.path) else { return try await next(request, context) }
        var given: String?
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else { throw APIError(.unauthorized, "Authorization must be `Bearer TOKEN`", headers: [.wwwAuthenticate: "Bearer"]) }
            given = String(header.dropFirst("Bearer ".count))
        } else if let cookie = request.cookies[Self.cookieName]?.value {
            given = cookie
        }
        guard let given else { throw APIError(.unauthorized, "this server needs a token: send `Authorization: Bearer TOKEN`", headers: [.wwwAuthenticate: "Bearer"]) }
        guard Self.same(Array(SHA256.hex(Data(given.utf8)).utf8), expected) else {
            throw APIError(.unauthorized, "wrong token", headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        }
        return try await next(request, context)
    }

    /// Equal without an early exit.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// What a website the reader happens to have open may not do. A browser sends a cross-site POST (a form, or
/// `fetch` with `no-cors`) to 127.0.0.1 without asking, and answers to a page whose name re-resolves to 127.0.0.1
/// (DNS rebinding) count as its own: so without a token, the `Host` must name this server (the host it was
/// started on, 127.0.0.1, localhost or [::1], with its port), and with or without one, a request that changes
/// anything must come from the page itself (`Sec-Fetch-Site` same-origin or none, or an `Origin` equal to the
/// server's own). Programs that send neither header (curl, scripts) are not browsers and pass.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let hosts: Set<String>
    let checkHost: Bool

    /// `port` 0 (a free port) is known only once listening: then any port is accepted for the loopback names.
    init(settings: ServeSettings, port: @escaping @Sendable () -> Int) {
        var names: Set<String> = ["127.0.0.1", "localhost", "[::1]"]
        names.insert(settings.host.contains(":") ? "[\(settings.host)]" : settings.host)
        hosts = names
        checkHost = (settings.token ?? "").isEmpty
        self.port = port
    }
    let port: @Sendable () -> Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority ?? ""
        if checkHost {
            guard allowed(host) else {
                throw APIError(.misdirectedRequest, "this server answers to 127.0.0.1 or localhost, not to \(PathGuard.printable(host)); start it with --token to serve other names")
            }
        }
        if request.method != .get && request.method != .head {
            if let site = request.headers[.init("Sec-Fetch-Site")!], site != "same-origin" && site != "none" {
                throw APIError(.forbidden, "a request from another site (\(PathGuard.printable(site))) may not change anything here")
            }
            if let origin = request.headers[.origin], origin != "http://\(host)" {
                throw APIError(.forbidden, "a request from \(PathGuard.printable(origin)) may not change anything here")
            }
        }
        return try await next(request, context)
    }

    private func allowed(_ authority: String) -> Bool {
        var name = authority, given: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            name = String(authority[..<colon])
            given = Int(authority[authority.index(after: colon)...])
        }
        guard hosts.contains(name.lowercased()) else { return false }
        return given == nil || given == port()
    }
}

/// Headers on every answer: no inline script anywhere on the page (`script-src 'self'`), no content sniffing, no
/// framing, no referrer, no caching of results. A file under the root (`/files/…`, a run's report.html with its
/// inline style) is served sandboxed: its own origin, no script at all.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var pagePolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
            + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    }
    static var filePolicy: String { "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let isFile = request.uri.path.hasPrefix("/files/")
        response.headers[.contentSecurityPolicy] = isFile ? Self.filePolicy : Self.pagePolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Paths a request names, confined to the root: relative, no `..`, `.` or hidden (`.git`, `.ssh`) component, no NUL,
/// and once every
/// symbolic link is resolved (realpath), still inside the root's own resolved path.
enum PathGuard {
    static func confine(_ relative: String, to root: URL) throws -> URL {
        guard !relative.isEmpty, relative.utf8.count <= 4096 else { throw APIError(.badRequest, "empty or over-long path") }
        guard !relative.contains("\0"), !relative.hasPrefix("/"), !relative.contains("\\") else {
            throw APIError(.forbidden, "\(printable(relative)): only paths relative to the root are served")
        }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) else {
            throw APIError(.forbidden, "\(printable(relative)): `..`, hidden (`.name`) and empty components are refused")
        }
        guard let base = realPath(root.path) else { throw APIError(.internalServerError, "the root cannot be resolved") }
        guard let resolved = realPath(root.appendingPathComponent(relative).path) else {
            throw APIError(.notFound, "\(printable(relative)): no such file under the root")
        }
        guard resolved == base || resolved.hasPrefix(base + "/") else {
            throw APIError(.forbidden, "\(printable(relative)): leads outside the root (a symbolic link)")
        }
        return URL(fileURLWithPath: resolved)
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// A path as it may appear in a message or a log: printable characters only, at most 200 of them.
    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.prefix(200).map { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }
}

/// An uploaded file's name, made safe to write: the last component, letters, digits, `.`, `-`, `_` kept and
/// everything else `_`, no leading dot, at most 100 characters with the extension kept (the reader decides the
/// format by content, but people and `segment`'s listing go by the extension); empty → `upload.png`.
enum UploadName {
    static func sanitise(_ raw: String?) -> String {
        let last = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var s = String(last.unicodeScalars.map { c -> Character in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_" ? Character(c) : "_"
        })
        while s.hasPrefix(".") { s.removeFirst() }
        if s.count > 100 {
            let ext = (s as NSString).pathExtension
            let keep = ext.isEmpty || ext.count > 10 ? "" : "." + ext
            s = String(s.prefix(100 - keep.count)) + keep
        }
        return s.isEmpty ? "upload.png" : s
    }
}
