import Foundation

/// Writes files so that a reader never sees a half-written one: the bytes go to a temporary file in the same
/// folder (same file system, so the rename cannot degrade to a copy) which then replaces the target.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ImageError.writeFailed(path: url.path, reason: "\(error.localizedDescription)")
        }
        // rename(2) replaces an existing target atomically on POSIX file systems.
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ImageError.writeFailed(path: url.path, reason: reason)
        }
    }
}
