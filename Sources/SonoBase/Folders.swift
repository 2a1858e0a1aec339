import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creating output folders with errors a person can act on ("'/tmp/a' is a file, not a folder", "Permission
/// denied"), where Foundation reports "NSCocoaErrorDomain error 512".
public enum Folders {
    /// Creates `url` and any missing parents.
    public static func create(_ url: URL) throws {
        var path = ""
        for component in url.standardizedFileURL.pathComponents {
            path = path.isEmpty ? component : (path == "/" ? "/" + component : path + "/" + component)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                if isFolder.boolValue { continue }
                throw FileWriteError(path: url.path, reason: "'\(path)' is a file, not a folder")
            }
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw FileWriteError(path: url.path, reason: "cannot create folder '\(path)': \(String(cString: strerror(errno)))")
            }
        }
    }
}

extension Folders {
    /// Builds a new folder `out` whole or not at all: `fill` writes into a staging folder beside it, which is
    /// renamed to `out` when `fill` returns. An existing `out` is refused (outputs never overwrite each other), and
    /// the staging folders a killed run left are removed first.
    public static func writeWhole<T>(_ out: URL, what: String, _ fill: (URL) throws -> T) throws -> T {
        if FileManager.default.fileExists(atPath: out.path) {
            throw FileWriteError(path: out.path, reason: "already exists; \(what) are never written over another folder")
        }
        let parent = out.deletingLastPathComponent(), prefix = ".\(out.lastPathComponent).partial-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
        let staging = parent.appendingPathComponent(prefix + "\(getpid())")
        defer { try? FileManager.default.removeItem(at: staging) }
        try create(staging)
        let result = try fill(staging)
        guard rename(staging.path, out.path) == 0 else {
            throw FileWriteError(path: out.path, reason: "cannot move the finished folder into place: \(String(cString: strerror(errno)))")
        }
        return result
    }
}
