import Foundation

/// The folder layouts SonoSeg reads as downloaded.
public enum DatasetLayout: String, Codable, Sendable, CaseIterable {
    /// BUSI: `benign/`, `malignant/`, `normal/` with `NAME.png` + `NAME_mask.png` (+ `_mask_1`, `_mask_2`).
    case busi
    /// BUS-BRA: `Images/bus_XXXX-S.png`, `Masks/mask_XXXX-S.png`, `bus_data.csv`.
    case busBra = "bus-bra"
    /// UDIAT Dataset B: `original/NNNNNN.png` + `GT/NNNNNN.png`.
    case udiat
    /// Generic: `images/` + `masks/` with the same stems, optional `labels.csv` (image,label).
    case paired
    /// nnU-Net's raw layout: `imagesTr/CASE_0000.png` (the channel suffix) + `labelsTr/CASE.png`, label maps.
    case nnunet
}

/// A dataset as read from disk: usable samples plus the problems found while reading.
public struct Dataset: Sendable {
    public var layout: DatasetLayout
    /// The folder holding the layout (may be below the folder the user named).
    public var root: URL
    public var samples: [Sample]
    public var problems: [DatasetProblem]
    /// Image and mask files found on disk, including ones that could not be paired.
    public var imageFileCount: Int
    public var maskFileCount: Int

    public init(layout: DatasetLayout, root: URL, samples: [Sample], problems: [DatasetProblem],
                imageFileCount: Int, maskFileCount: Int) {
        (self.layout, self.root, self.samples, self.problems) = (layout, root, samples, problems)
        (self.imageFileCount, self.maskFileCount) = (imageFileCount, maskFileCount)
    }

    /// Reads the dataset at `path`, detecting the layout unless one is named.
    public static func read(_ path: URL, layout: DatasetLayout? = nil) throws -> Dataset {
        let located = try DatasetDetector.locate(path, layout: layout)
        switch located.layout {
        case .busi: return try BUSIReader().read(located.folder)
        case .busBra: return try BUSBRAReader().read(located.folder)
        case .udiat: return try UDIATReader().read(located.folder)
        case .paired: return try PairedFolderReader().read(located.folder)
        case .nnunet: return try PairedFolderReader(imagesFolder: "imagesTr", masksFolder: "labelsTr", layout: .nnunet,
                                                    channelSuffix: "_0000").read(located.folder)
        }
    }

    /// Class names present, sorted; a sample's label index is its class's position here.
    public var classNames: [String] { Array(Set(samples.compactMap(\.className))).sorted() }
}
