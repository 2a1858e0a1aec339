import Foundation

/// Reads BUSI as downloaded: one folder per class; `NAME.png` with `NAME_mask.png` and optionally
/// `NAME_mask_1.png`, `NAME_mask_2.png` (one lesion per file; the sample's mask is their union).
public struct BUSIReader: Sendable {
    static let classFolders = ["benign", "malignant", "normal"]

    public init() {}

    public func read(_ folder: URL) throws -> Dataset {
        var samples = [Sample](), problems = [DatasetProblem]()
        var imageCount = 0, maskCount = 0, usedIDs = Set<String>()
        for className in Self.classFolders {
            let classFolder = folder.appendingPathComponent(className)
            guard FolderListing.isDirectory(classFolder) else { continue }
            var images = [String: URL](), masks = [String: [URL]]()
            for file in try FolderListing.imageFiles(in: classFolder) {
                let stem = FolderListing.stem(file)
                if let owner = Self.maskOwner(stem) {
                    masks[owner, default: []].append(file); maskCount += 1
                } else {
                    images[stem] = file; imageCount += 1
                }
            }
            for stem in images.keys.sorted(by: FolderListing.naturalOrder) {
                let image = images[stem]!
                let maskURLs = (masks[stem] ?? []).sorted { $0.lastPathComponent < $1.lastPathComponent }
                if maskURLs.isEmpty && className != "normal" {
                    problems.append(DatasetProblem(kind: .imageWithoutMask, files: [image.path],
                        message: "\(image.path): \(className) image has no \(stem)_mask file"))
                    continue
                }
                var id = stem
                if usedIDs.contains(id) {
                    id = "\(className)/\(stem)"
                    problems.append(DatasetProblem(kind: .duplicateID, files: [image.path],
                        message: "\(image.path): name \(stem) used in another class folder; id is \(id)"))
                }
                usedIDs.insert(id)
                samples.append(Sample(id: id, imageURL: image, maskURLs: maskURLs, className: className,
                                      pathology: className == "normal" ? nil : className))
            }
            for (owner, files) in masks where images[owner] == nil {
                for file in files {
                    problems.append(DatasetProblem(kind: .maskWithoutImage, files: [file.path],
                        message: "\(file.path): mask has no image \(owner) in \(className)/"))
                }
            }
        }
        guard imageCount + maskCount > 0 else {
            throw DatasetError.layoutMismatch(path: folder.path, layout: "busi", reason: "class folders hold no images")
        }
        problems.sort { ($0.files.first ?? "") < ($1.files.first ?? "") }
        return Dataset(layout: .busi, root: folder, samples: samples, problems: problems,
                       imageFileCount: imageCount, maskFileCount: maskCount)
    }

    /// "x_mask" → "x", "x_mask_2" → "x", anything else → nil.
    static func maskOwner(_ stem: String) -> String? {
        if stem.hasSuffix("_mask") { return String(stem.dropLast(5)) }
        guard let range = stem.range(of: "_mask_", options: .backwards) else { return nil }
        let suffix = stem[range.upperBound...]
        guard !suffix.isEmpty, suffix.allSatisfy(\.isNumber) else { return nil }
        return String(stem[..<range.lowerBound])
    }
}
