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
