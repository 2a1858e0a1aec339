import Foundation
import SonoImaging

/// One input of `segment`: the file, and its path relative to the folder it was found in (its name, for a file
/// given directly). That relative path names the input in every row (`input`) and its outputs, so results
/// inside the output folder mirror the input tree and never repeat the input's absolute path.
public struct SegmentInput: Sendable, Equatable {
    public var url: URL
    public var relativePath: String
    public init(url: URL, relativePath: String) { (self.url, self.relativePath) = (url, relativePath) }
    /// A file given directly: named by its file name.
    public init(_ url: URL) { self.init(url: url, relativePath: url.lastPathComponent) }
}

/// Image files under the given paths (folders are listed, sorted naturally; with `recursive`, their subfolders
/// too), each with its path relative to the folder given. Files whose name marks them as masks (`_mask`) are
/// left out, with a note, since users point at dataset folders; files of other formats are named in one line.
public func collectImages(_ paths: [URL], recursive: Bool = false, log: (String) -> Void) throws -> [SegmentInput] {
    let extensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm", "dicom"]
    // Hospital exports often name DICOM files without an extension (IM0001): those are told by their content.
    func isDICOM(_ f: URL) -> Bool {
        guard f.pathExtension.isEmpty, let h = try? FileHandle(forReadingFrom: f) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 132)).map { ImageFormat.detect([UInt8]($0)) == .dicom } ?? false
    }
    var out: [SegmentInput] = [], skippedMasks = 0, ignored: [String] = []
    func list(_ folder: URL, prefix: String) throws {
        let entries = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey])
            .sorted { $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending }
        for f in entries where !f.lastPathComponent.hasPrefix(".") {
            if (try? f.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
                if recursive { try list(f, prefix: prefix + f.lastPathComponent + "/") }
                continue
            }
            guard extensions.contains(f.pathExtension.lowercased()) || isDICOM(f) else { ignored.append(f.lastPathComponent); continue }
            if f.deletingPathExtension().lastPathComponent.contains("_mask") { skippedMasks += 1; continue }
            out.append(SegmentInput(url: f, relativePath: prefix + f.lastPathComponent))
        }
    }
    var roots: [URL] = []   // the argument each input came from
    for path in paths {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw PipelineError.unreadable(path.path, "no such file or folder")
        }
        let before = out.count
        if isDir.boolValue { try list(path, prefix: "") } else { out.append(SegmentInput(path)) }
        roots += Array(repeating: isDir.boolValue ? path : path.deletingLastPathComponent(), count: out.count - before)
    }
    // Two arguments may hold the same relative path (left/img1.png, right/img1.png): those inputs are named with
    // as many of their root's folders as tell them apart, so every row's `input` names one file.
    var depth = 1
    while depth < 16 {
        let clashing = Dictionary(grouping: out.indices, by: { out[$0].relativePath }).filter { $0.value.count > 1 }.values.flatMap { $0 }
        if clashing.isEmpty { break }
        for i in clashing {
            let folders = roots[i].standardizedFileURL.pathComponents.filter { $0 != "/" }.suffix(depth)
            out[i].relativePath = (folders + [out[i].relativePath.split(separator: "/", omittingEmptySubsequences: false).suffix(from: 0).joined(separator: "/")])
                .joined(separator: "/")
        }
        depth += 1
    }
    if skippedMasks > 0 { log("left out \(skippedMasks) files named *_mask* (ground-truth masks, not images)") }
    if !ignored.isEmpty {
        log("ignored \(ignored.count) files that are not PNG, JPEG, BMP, TIFF or DICOM: " + ignored.prefix(5).joined(separator: ", ")
            + (ignored.count > 5 ? ", …" : ""))
    }
    if out.isEmpty { throw PipelineError.emptyDataset("no images (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .dcm or DICOM without extension) in \(paths.map(\.path).joined(separator: ", "))") }
    return out
}

/// The output stem of each input, unique even where the file system folds case: its relative path without
/// the extension (`a/x` → `a/x_mask.png`); where two stems are equal once case is folded, the extension joins
/// the name (`x-png`, `x-jpg`); where they still are (`a.png`, `a.PNG`), a counter in input order (`a-png`,
/// `a-png-2`); a stem that another's output names begin with (`x_candidate` beside `x`, `cine_f001` beside a cine
/// loop `cine`) takes its extension too. Two inputs never write one output file.
public func outputNames(_ inputs: [SegmentInput]) -> [String] {
    func stem(_ path: String) -> String {
        let ext = (path as NSString).pathExtension
        return ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
    }
    var names = inputs.map { stem($0.relativePath) }
    func folded(_ s: String) -> String { s.folding(options: [.caseInsensitive], locale: nil) }
    // An output is STEM + a suffix (_mask, _candidate_mask, _f001_mask, _extended_prob, …), so a stem that is
    // another's plus the start of a suffix would write that one's files (x.png's x_candidate_mask.png is
    // x_candidate.png's mask; a cine's cine_f001_mask.png is cine_f001.png's): such a stem takes its extension.
    let stems = Set(names.map(folded))
    let reserved = try! NSRegularExpression(pattern: "(_f[0-9]{3})?(_candidate|_extended)?$")
    for i in names.indices {
        let n = names[i] as NSString
        guard let m = reserved.firstMatch(in: names[i], range: NSRange(location: 0, length: n.length)), m.range.length > 0 else { continue }
        if stems.contains(folded(n.substring(to: m.range.location))) {
            let ext = (inputs[i].relativePath as NSString).pathExtension
            names[i] += "-" + (ext.isEmpty ? "file" : ext.lowercased())
        }
    }
    let clashing = Dictionary(grouping: names.indices, by: { folded(names[$0]) }).filter { $0.value.count > 1 }
    for (_, group) in clashing {
        for i in group {
            let ext = (inputs[i].relativePath as NSString).pathExtension
            if !ext.isEmpty { names[i] += "-" + ext.lowercased() }
        }
    }
    var seen: [String: Int] = [:]
    for i in names.indices {
        let key = folded(names[i])
        if let n = seen[key] {
            var k = n + 1
            while seen[folded(names[i] + "-\(k)")] != nil { k += 1 }
            seen[key] = k
            names[i] += "-\(k)"
            seen[folded(names[i])] = 1
        } else {
            seen[key] = 1
        }
    }
    return names
}
