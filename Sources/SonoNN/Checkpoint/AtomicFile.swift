import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old contents or the complete new ones, never a partial
/// file: the bytes go to a temporary file in the same folder (a rename is atomic only within one file
/// system), are flushed to disk, and the temporary is renamed over the target. A crash mid-write leaves the
/// old file intact and at worst a stray `.*.tmp` file.
struct AtomicFile {
    let url: URL
    private let tempPath: String
    private var fd: Int32
    private var committed = false

    init(url: URL) throws {
        self.url = url
        let folder = url.deletingLastPathComponent().path
        tempPath = folder + "/." + url.lastPathComponent + "." + UUID().uuidString + ".tmp"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw SafetensorsError.io(file: url.path, detail: "cannot create \(tempPath): \(Self.errnoText())") }
    }

    /// Appends raw bytes, retrying short writes and interrupted calls.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError.io(file: url.path, detail: "write failed: \(Self.errnoText())")
            }
            done += n
        }
    }

    /// Flushes, closes and renames into place; also flushes the folder so the rename itself survives a crash.
    mutating func commit() throws {
        guard fsync(fd) == 0 else { throw SafetensorsError.io(file: url.path, detail: "fsync failed: \(Self.errnoText())") }
        close(fd); fd = -1
        guard rename(tempPath, url.path) == 0 else {
            throw SafetensorsError.io(file: url.path, detail: "rename from \(tempPath) failed: \(Self.errnoText())")
        }
        committed = true
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Drops the temporary file after a failure (no-op after `commit`).
    mutating func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if !committed { unlink(tempPath) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
