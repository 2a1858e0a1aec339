import Foundation

/// Finds which layout a folder holds. The user may name the dataset folder itself or a parent (e.g.
/// `data/busi` for `data/busi/Dataset_BUSI_with_GT`), so the search looks up to two levels down.
public enum DatasetDetector {
    /// Whether `folder` itself holds `layout`.
    public static func matches(_ folder: URL, _ layout: DatasetLayout) -> Bool {
        func has(_ name: String) -> Bool { FolderListing.isDirectory(folder.appendingPathComponent(name)) }
        switch layout {
        case .busBra:
            return has("Images") && has("Masks")
                && FileManager.default.fileExists(atPath: folder.appendingPathComponent("bus_data.csv").path)
        case .busi:
            return [BUSIReader.classFolders].joined().filter(has).count >= 2
        case .udiat:
            return has("original") && has("GT")
        case .paired:
            return has("images") && has("masks")
        case .nnunet:
            return has("imagesTr") && has("labelsTr")
        }
    }

    /// The folder and layout found at or below `path`; with `layout` given, only that layout is accepted.
    public static func locate(_ path: URL, layout: DatasetLayout? = nil) throws -> (layout: DatasetLayout, folder: URL) {
        guard FolderListing.isDirectory(path) else { throw DatasetError.notAFolder(path: path.path) }
        let candidates = layout.map { [$0] } ?? [.busBra, .busi, .udiat, .nnunet, .paired]
        var level = [path]
        for _ in 0...2 {
            for folder in level {
                for candidate in candidates where matches(folder, candidate) { return (candidate, folder) }
            }
            level = level.flatMap(FolderListing.subfolders)
        }
        let looked = candidates.map(describe).joined(separator: "; ")
        if let layout {
            throw DatasetError.layoutMismatch(path: path.path, layout: layout.rawValue, reason: "expected \(describe(layout))")
        }
        throw DatasetError.unknownLayout(path: path.path, looked: looked)
    }

    static func describe(_ layout: DatasetLayout) -> String {
        switch layout {
        case .busi: return "busi: benign/ malignant/ normal/"
        case .busBra: return "bus-bra: Images/ Masks/ bus_data.csv"
        case .udiat: return "udiat: original/ GT/"
        case .paired: return "paired: images/ masks/"
        case .nnunet: return "nnunet: imagesTr/ labelsTr/"
        }
    }
}
