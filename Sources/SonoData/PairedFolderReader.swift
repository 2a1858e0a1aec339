import Foundation
import SonoBase

/// Reads any layout of the form `<images>/STEM.ext` + `<masks>/STEM.ext` (same stems), with optional labels
/// in `labels.csv` (columns `image,label`; `image` may be a file name or a stem). Used for the generic
/// `images/` + `masks/` layout and, with other folder names, for UDIAT Dataset B.
public struct PairedFolderReader: Sendable {
    public var imagesFolder: String
    public var masksFolder: String
    public var layout: DatasetLayout
    /// Ending of image stems that the mask stems lack (nnU-Net's channel number, `_0000`).
    public var channelSuffix: String

    public init(imagesFolder: String = "images", masksFolder: String = "masks", layout: DatasetLayout = .paired,
                channelSuffix: String = "") {
        (self.imagesFolder, self.masksFolder, self.layout, self.channelSuffix) = (imagesFolder, masksFolder, layout, channelSuffix)
    }

    /// The case an image file belongs to: its stem less the channel suffix.
    private func caseName(_ image: URL) -> String {
        let stem = FolderListing.stem(image)
        return !channelSuffix.isEmpty && stem.hasSuffix(channelSuffix) ? String(stem.dropLast(channelSuffix.count)) : stem
    }

    public func read(_ folder: URL) throws -> Dataset {
        let imageFiles = try FolderListing.imageFiles(in: folder.appendingPathComponent(imagesFolder))
        let maskFiles = try FolderListing.imageFiles(in: folder.appendingPathComponent(masksFolder))
        var masksByStem = [String: URL]()
        for mask in maskFiles { masksByStem[FolderListing.stem(mask)] = mask }
        var problems = [DatasetProblem]()
        let labels = try readLabels(folder, problems: &problems, imageStems: Set(imageFiles.map(caseName)))

        var samples = [Sample](), paired = Set<String>()
        for image in imageFiles {
            let stem = caseName(image)
            guard let mask = masksByStem[stem] else {
                problems.append(DatasetProblem(kind: .imageWithoutMask, files: [image.path],
                    message: "\(image.path): no mask named \(stem) in \(masksFolder)/"))
                continue
            }
            if paired.contains(stem) {
                problems.append(DatasetProblem(kind: .duplicateID, files: [image.path],
                    message: "\(image.path): another image has the stem \(stem); only the first is used"))
                continue
            }
            paired.insert(stem)
            samples.append(Sample(id: stem, imageURL: image, maskURLs: [mask], className: labels[stem]))
        }
        for mask in maskFiles where !paired.contains(FolderListing.stem(mask)) {
            problems.append(DatasetProblem(kind: .maskWithoutImage, files: [mask.path],
                message: "\(mask.path): mask has no image named \(FolderListing.stem(mask)) in \(imagesFolder)/"))
        }
        return Dataset(layout: layout, root: folder, samples: samples, problems: problems,
                       imageFileCount: imageFiles.count, maskFileCount: maskFiles.count)
    }

    private func readLabels(_ folder: URL, problems: inout [DatasetProblem], imageStems: Set<String>) throws -> [String: String] {
        let url = folder.appendingPathComponent("labels.csv")
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        let table = try CSVTable(contentsOf: url)
        let imageColumn = try table.column("image"), labelColumn = try table.column("label")
        var labels = [String: String]()
        for (row, line) in zip(table.rows, table.lineNumbers) {
            let name = table.value(row, imageColumn), label = table.value(row, labelColumn)
            guard !name.isEmpty else { continue }
            let stem = (name as NSString).deletingPathExtension
            if !imageStems.contains(stem) {
                problems.append(DatasetProblem(kind: .missingFile, files: [url.path],
                    message: "\(url.path): line \(line) names \(name) but \(imagesFolder)/ has no such image"))
                continue
            }
            if !label.isEmpty { labels[stem] = label }
        }
        return labels
    }
}

/// UDIAT Dataset B: `original/NNNNNN.png` + `GT/NNNNNN.png`. Its labels come in `DatasetB.xlsx`, which is
/// not read; put them in `labels.csv` (image,label) to use them.
public struct UDIATReader: Sendable {
    public init() {}

    public func read(_ folder: URL) throws -> Dataset {
        try PairedFolderReader(imagesFolder: "original", masksFolder: "GT", layout: .udiat).read(folder)
    }
}
