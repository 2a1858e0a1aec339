import Foundation
import SonoBase

/// Reads BUS-BRA as released: `bus_data.csv` lists each image (ID, Case, Histology, Pathology, BIRADS,
/// Device, Width, Height, Side, BBOX); image `Images/ID.png`, mask `Masks/mask_XXXX-S.png`.
/// The patient is the number in the ID (`bus_0001-l` → "1"), which the `Case` column repeats.
public struct BUSBRAReader: Sendable {
    public init() {}

    public func read(_ folder: URL) throws -> Dataset {
        let csvURL = folder.appendingPathComponent("bus_data.csv")
        let table = try CSVTable(contentsOf: csvURL)
        let idColumn = try table.column("ID"), pathologyColumn = try table.column("Pathology")
        let biradsColumn = try table.column("BIRADS")
        let optional = ["Case", "Histology", "Device", "Side", "BBOX", "Width", "Height"].compactMap { name in
            (try? table.column(name)).map { (name, $0) }
        }
        let imagesFolder = folder.appendingPathComponent("Images"), masksFolder = folder.appendingPathComponent("Masks")
        let imageFiles = try FolderListing.imageFiles(in: imagesFolder)
        let maskFiles = try FolderListing.imageFiles(in: masksFolder)
        let imagesByStem = Dictionary(imageFiles.map { (FolderListing.stem($0), $0) }, uniquingKeysWith: { a, _ in a })
        let masksByStem = Dictionary(maskFiles.map { (FolderListing.stem($0), $0) }, uniquingKeysWith: { a, _ in a })

        var samples = [Sample](), problems = [DatasetProblem](), listed = Set<String>(), usedMasks = Set<String>()
        for (row, line) in zip(table.rows, table.lineNumbers) {
            let id = table.value(row, idColumn)
            guard !id.isEmpty else { continue }
            if listed.contains(id) {
                problems.append(DatasetProblem(kind: .duplicateID, files: [csvURL.path],
                    message: "\(csvURL.path): line \(line) repeats ID \(id)"))
                continue
            }
            listed.insert(id)
            let maskStem = "mask_" + (id.hasPrefix("bus_") ? String(id.dropFirst(4)) : id)
            guard let image = imagesByStem[id] else {
                problems.append(DatasetProblem(kind: .missingFile, files: [csvURL.path, imagesFolder.appendingPathComponent("\(id).png").path],
                    message: "\(csvURL.path): line \(line) names \(id) but Images/\(id).png does not exist"))
                continue
            }
            guard let mask = masksByStem[maskStem] else {
                problems.append(DatasetProblem(kind: .imageWithoutMask, files: [image.path],
                    message: "\(image.path): no mask Masks/\(maskStem).png"))
                continue
            }
            usedMasks.insert(maskStem)
            var attributes = [String: String]()
            for (name, column) in optional { attributes[name] = table.value(row, column) }
            let patient = Self.patientNumber(id)
            if let patient, let caseValue = attributes["Case"], !caseValue.isEmpty, Int(caseValue).map(String.init) != patient {
                problems.append(DatasetProblem(kind: .inconsistentMetadata, files: [csvURL.path],
                    message: "\(csvURL.path): line \(line): Case \(caseValue) differs from the number in ID \(id)"))
            }
            let pathology = table.value(row, pathologyColumn).lowercased()
            let birads = table.value(row, biradsColumn)
            samples.append(Sample(id: id, imageURL: image, maskURLs: [mask],
                                  className: pathology.isEmpty ? nil : pathology,
                                  birads: birads.isEmpty ? nil : birads,
                                  pathology: pathology.isEmpty ? nil : pathology,
                                  patient: patient ?? attributes["Case"], attributes: attributes))
        }
        for (stem, file) in imagesByStem.sorted(by: { $0.key < $1.key }) where !listed.contains(stem) {
            problems.append(DatasetProblem(kind: .unlistedImage, files: [file.path],
                message: "\(file.path): image is not listed in \(csvURL.lastPathComponent)"))
        }
        for (stem, file) in masksByStem.sorted(by: { $0.key < $1.key }) where !usedMasks.contains(stem) {
            problems.append(DatasetProblem(kind: .maskWithoutImage, files: [file.path],
                message: "\(file.path): mask has no listed image"))
        }
        return Dataset(layout: .busBra, root: folder, samples: samples, problems: problems,
                       imageFileCount: imageFiles.count, maskFileCount: maskFiles.count)
    }

    /// "bus_0012-r" → "12": the digits after the prefix, without leading zeros.
    static func patientNumber(_ id: String) -> String? {
        let digits = id.drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int(digits).map(String.init)
    }
}
