import Foundation
import SonoBase

/// The index of a paired dataset made from another dataset's images (presence windows, presence candidates):
/// `labels.csv` and a `split.json` that keeps every derived image in its source image's part, so nothing cut from
/// a test image is trained on.
public enum DerivedDataset {
    public struct Entry: Sendable, Equatable {
        public var id: String, part: String, label: String
        public init(id: String, part: String, label: String) { (self.id, self.part, self.label) = (id, part, label) }
    }

    /// Writes `labels.csv` and `split.json` into `folder` (the staging folder of the dataset that will be `root`).
    public static func writeIndex(_ entries: [Entry], source split: DatasetSplit, root: URL, into folder: URL) throws {
        var labels = "image,label\n"
        for e in entries { labels += "\(CSVField.escape(e.id)),\(e.label)\n" }
        try AtomicFile.write(Data(labels.utf8), to: folder.appendingPathComponent("labels.csv"))
        let ids = { (part: String) in entries.filter { $0.part == part }.map(\.id) }
        // The split is derived, not drawn: its configuration is fixed (recipes name it as `"split": {"folds": 1}`).
        let derived = DatasetSplit(version: split.version, configuration: SplitConfiguration(folds: 1),
                                   layout: DatasetLayout.paired.rawValue, root: root.path, test: ids("test"), folds: [],
                                   train: ids("train"), validation: ids("validation"))
        try SplitStore.write(derived, to: folder.appendingPathComponent("split.json"))
    }
}
