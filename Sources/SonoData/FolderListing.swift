import Foundation

/// Small file-system helpers shared by the readers.
enum FolderListing {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm"]

    static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }

    /// Image files directly in `folder` (by extension, case-insensitive), sorted by name; hidden files skipped.
    static func imageFiles(in folder: URL) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw DatasetError.notAFolder(path: folder.path)
        }
        return names.filter { !$0.hasPrefix(".") && imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted(by: naturalOrder)
            .map { folder.appendingPathComponent($0) }
    }

    static func subfolders(of folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
            .filter(isDirectory)
    }

    static func stem(_ url: URL) -> String { url.deletingPathExtension().lastPathComponent }

    /// "a (2)" before "a (10)": numbers compare by value, so listings read like the dataset's own numbering.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric]) == .orderedAscending
    }
}
