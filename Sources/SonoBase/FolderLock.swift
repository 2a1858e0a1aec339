import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive claim on an output folder for as long as this value lives: two `segment` runs (or two
/// trainings) writing into one folder would each rewrite the summary and lose the other's rows. The lock is
/// `flock(2)` on `.sonoseg.lock` inside the folder, so the system drops it when the process ends, even after a
/// kill, and a stale lock file never blocks anyone.
public final class FolderLock {
    public let folder: URL
    private let fd: Int32

    /// Creates `folder` if needed and locks it, or throws naming the folder when another process holds it.
    public init(_ folder: URL, purpose: String) throws {
        self.folder = folder
        try Folders.create(folder)
        let path = folder.appendingPathComponent(".sonoseg.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw FileWriteError(path: folder.path, reason: "another sonoseg process is \(purpose) into this folder; "
                                 + "wait for it to finish or choose another output folder")
        }
    }

    deinit { flock(fd, LOCK_UN); close(fd) }
}
