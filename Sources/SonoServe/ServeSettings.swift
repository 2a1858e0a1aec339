import Foundation
import SonoImaging

/// What `sonoseg serve` was asked for: one typed value, built from the command line and handed down whole.
public struct ServeSettings: Codable, Sendable {
    /// The folder whose images make the worklist, where uploads and reviews are saved, and the only folder the
    /// API reads or writes.
    public var root: URL
    /// Segmenter file or run folder (nil: the bundled default model).
    public var model: URL?
    /// Diagnosis bundle (nil: the bundled one, when there is one); `diagnosis: false` turns it off.
    public var diagnosisFolder: URL?
    public var diagnosis = true
    public var host = "127.0.0.1"
    /// 0: a free port, told in the URL the server prints.
    public var port = 8080
    /// Bearer token every API call must carry (required for any host but loopback).
    public var token: String?
    /// Inference requests allowed to wait; one more is answered 503 with Retry-After.
    public var queueCapacity = 32
    /// Largest request body accepted, in MiB (413 beyond).
    public var maxUploadMB = 32
    /// Largest image accepted, width × height (the readers' limit).
    public var maxPixels = ImageIO.defaultMaxPixels
    /// Serve the page from this folder instead of the binary's resources (for working on the page).
    public var webFolder: URL?
    /// How many /v1/segment results keep their pictures (the oldest are deleted beyond).
    public var keptResults = 256

    public init(root: URL) { self.root = root }

    /// Loopback names: the only hosts that may serve without a token.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) }

    /// Refuses settings that would expose the server or make no sense, naming the option.
    public func validate() throws {
        if let token, token.isEmpty { throw ServeError.refused("--token is empty: give a token, or leave the option out on loopback") }
        if !isLoopback && (token ?? "").isEmpty {
            throw ServeError.refused("--host \(host) reaches beyond this machine: give --token T (every request must then carry `Authorization: Bearer T`)")
        }
        guard (0...65535).contains(port) else { throw ServeError.refused("--port \(port) is not a port (0 picks a free one)") }
        guard queueCapacity >= 1 else { throw ServeError.refused("--queue must be at least 1") }
        guard (1...1024).contains(maxUploadMB) else { throw ServeError.refused("--max-upload-mb must be between 1 and 1024") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw ServeError.refused("--root \(root.path): no such folder")
        }
    }
}

public enum ServeError: Error, CustomStringConvertible {
    case refused(String)
    public var description: String {
        switch self { case .refused(let m): return m }
    }
}
