import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write that did not happen: the file and what the system said.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
    public var description: String { "\(path): cannot write (\(reason))" }
}

/// Every file SonoSeg writes (checkpoints, masks, reports, logs, splits) goes through here, so that a reader sees
/// either the old contents or the complete new ones and a crash or a kill never leaves a half-written file: the
/// bytes go to a temporary file in the same folder (a rename is atomic only within one file system), are
/// flushed to disk, the temporary is renamed over the target and the folder is flushed so the rename survives.
public struct AtomicFile {
    public let url: URL
    private let temporaryPath: String
    private var fd: Int32
    private var committed = false

    /// Whole contents at once; creates the folder if needed.
    public static func write(_ data: Data, to url: URL) throws {
        do { try Folders.create(url.deletingLastPathComponent()) } catch let e as FileWriteError {
            throw FileWriteError(path: url.path, reason: e.reason)   // name the file the caller asked for
        }
        var file = try AtomicFile(url: url)
        do {
            try data.withUnsafeBytes { try file.write($0) }
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Opens a temporary beside `url` for `write` calls; nothing appears at `url` until `commit`.
    public init(url: URL) throws {
        self.url = url
        temporaryPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + "." + UUID().uuidString + Self.temporarySuffix
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "cannot create \(temporaryPath): \(Self.errnoText())") }
    }

    private static let temporarySuffix = ".tmp"

    /// Removes the temporaries that writers killed mid-write (kill -9, a power cut) left in `folder`
    /// (`.NAME.UUID.tmp`; the files they were to replace are untouched). Only for a folder no other process is
    /// writing into at the time, such as a server's own at its start.
    public static func removeLeftovers(in folder: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        where name.hasPrefix(".") && name.hasSuffix(temporarySuffix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Appends raw bytes, retrying short writes and interrupted calls.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError(path: url.path, reason: "write failed: \(Self.errnoText())")
            }
            done += n
        }
    }

    /// Flushes, closes and renames into place; then flushes the folder so the rename itself survives a crash.
    public mutating func commit() throws {
        guard fsync(fd) == 0 else { throw FileWriteError(path: url.path, reason: "fsync failed: \(Self.errnoText())") }
        close(fd); fd = -1
        guard rename(temporaryPath, url.path) == 0 else {
            throw FileWriteError(path: url.path, reason: "rename from \(temporaryPath) failed: \(Self.errnoText())")
        }
        committed = true
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY)
        if folder >= 0 { _ = fsync(folder); close(folder) }
    }

    /// Drops the temporary file after a failure (no-op after `commit`).
    public mutating func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if !committed { unlink(temporaryPath) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
