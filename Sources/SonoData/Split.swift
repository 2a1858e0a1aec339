import Foundation
import SonoBase

/// How to split a dataset. Stored inside the split file so a reused split can be checked against a request.
public struct SplitConfiguration: Codable, Sendable, Equatable, DefaultDecodable {
    /// Cross-validation folds of the non-test part; below 2 means a single train/validation split.
    public var folds: Int
    /// Fraction of samples held out as the test set (0 for none).
    public var testFraction: Double
    /// Fraction of the non-test samples used for validation when `folds` < 2.
    public var validationFraction: Double
    public var seed: UInt64

    public init(folds: Int = 5, testFraction: Double = 0.2, validationFraction: Double = 0.2, seed: UInt64 = 0) {
        (self.folds, self.testFraction, self.validationFraction) = (folds, testFraction, validationFraction)
        self.seed = seed
    }
    public init() { self.init(folds: 5) }

    enum CodingKeys: String, CodingKey { case folds, testFraction, validationFraction, seed }
}

/// A partition of sample ids, written once to JSON and reused. With folds, `folds[k]` is fold k's validation
/// set and its training set is every other non-test id; without, `train`/`validation` are given directly.
public struct DatasetSplit: Codable, Sendable, Equatable {
    public var version: Int
    public var configuration: SplitConfiguration
    public var layout: String
    public var root: String
    public var test: [String]
    public var folds: [[String]]
    public var train: [String]
    public var validation: [String]

    /// The training and validation ids for `fold` (0 when the split has no folds).
    public func partition(fold: Int) throws -> (train: [String], validation: [String]) {
        if folds.isEmpty {
            guard fold == 0 else { throw DatasetError.invalidConfiguration("split has no folds; asked for fold \(fold)") }
            return (train, validation)
        }
        guard folds.indices.contains(fold) else {
            throw DatasetError.invalidConfiguration("split has \(folds.count) folds; asked for fold \(fold)")
        }
        let trainIDs = folds.enumerated().filter { $0.offset != fold }.flatMap(\.element)
        return (trainIDs.sorted(by: FolderListing.naturalOrder), folds[fold])
    }

    /// Every id in the split with the partition it is in ("test", "fold2", "train", "validation").
    public var membership: [String: String] {
        var result = [String: String]()
        for id in test { result[id] = "test" }
        for (k, fold) in folds.enumerated() { for id in fold { result[id] = "fold\(k)" } }
        for id in train { result[id] = "train" }
        for id in validation { result[id] = "validation" }
        return result
    }

    /// Every id with its part when `fold` is the validation fold: "train", "validation" or "test" (data derived
    /// from an image, such as windows cut from it, stays in that image's part).
    public func parts(fold: Int) throws -> [String: String] {
        let (train, validation) = try partition(fold: fold)
        var result = [String: String]()
        for id in train { result[id] = "train" }
        for id in validation { result[id] = "validation" }
        for id in test { result[id] = "test" }
        return result
    }

    var allIDs: [String] { test + folds.flatMap { $0 } + train + validation }
}

/// Makes splits that never leak: samples are grouped by patient (where known) and by identical pixels
/// (duplicate images, like BUSI's benign (433) = malignant (145)), each group goes to one partition as a
/// whole, and groups are spread so that every partition has about the same class proportions.
public enum SplitMaker {
    /// - Parameter hashes: sample id → content hash (`ContentHash.imageHashes`); ids with equal hashes
    ///   stay together.
    public static func make(_ dataset: Dataset, hashes: [String: String], configuration c: SplitConfiguration) throws -> DatasetSplit {
        guard !dataset.samples.isEmpty else { throw DatasetError.emptyDataset(path: dataset.root.path) }
        guard (0..<1).contains(c.testFraction), (0..<1).contains(c.validationFraction) else {
            throw DatasetError.invalidConfiguration("test and validation fractions must be in [0, 1)")
        }
        guard c.folds < 2 || c.folds <= dataset.samples.count else {
            throw DatasetError.invalidConfiguration("\(c.folds) folds for \(dataset.samples.count) samples")
        }
        let groups = group(dataset.samples, hashes: hashes)
        var rng = RandomGenerator(seed: c.seed)
        // Strata in name order, groups in id order before shuffling: only the seed decides the outcome.
        var strata = [String: [Group]]()
        for g in groups { strata[g.stratum, default: []].append(g) }
        var test = [String](), train = [String](), validation = [String]()
        var folds = [[String]](repeating: [], count: max(c.folds, 0) >= 2 ? c.folds : 0)
        for name in strata.keys.sorted() {
            var list = strata[name]!.sorted { FolderListing.naturalOrder($0.ids[0], $1.ids[0]) }
            rng.shuffle(&list)
            let total = list.reduce(0) { $0 + $1.ids.count }
            let testTarget = Int((Double(total) * c.testFraction).rounded())
            var taken = 0, rest = [Group]()
            for g in list {
                if taken < testTarget { test += g.ids; taken += g.ids.count } else { rest.append(g) }
            }
            if folds.isEmpty {
                let remaining = rest.reduce(0) { $0 + $1.ids.count }
                let validationTarget = Int((Double(remaining) * c.validationFraction).rounded())
                var inValidation = 0
                for g in rest {
                    if inValidation < validationTarget { validation += g.ids; inValidation += g.ids.count } else { train += g.ids }
                }
            } else {
                // Largest groups first so the greedy fill stays balanced; stable sort keeps shuffled order for ties.
                var fill = [Int](repeating: 0, count: folds.count)
                let ordered = rest.enumerated().sorted { ($0.element.ids.count, -$0.offset) > ($1.element.ids.count, -$1.offset) }
                for (_, g) in ordered {
                    let k = fill.indices.min { (fill[$0], folds[$0].count, $0) < (fill[$1], folds[$1].count, $1) }!
                    folds[k] += g.ids
                    fill[k] += g.ids.count
                }
            }
        }
        let sort: ([String]) -> [String] = { $0.sorted(by: FolderListing.naturalOrder) }
        return DatasetSplit(version: 1, configuration: c, layout: dataset.layout.rawValue, root: dataset.root.path,
                            test: sort(test), folds: folds.map(sort), train: sort(train), validation: sort(validation))
    }

    struct Group {
        var ids: [String]
        var stratum: String
    }

    /// Connected groups of samples sharing a patient or a content hash (union–find).
    static func group(_ samples: [Sample], hashes: [String: String]) -> [Group] {
        var parent = Array(samples.indices)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        func union(_ a: Int, _ b: Int) { let ra = find(a), rb = find(b); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        var firstByKey = [String: Int]()
        for (i, s) in samples.enumerated() {
            var keys = [String]()
            if let p = s.patient { keys.append("patient:" + p) }
            if let h = hashes[s.id] { keys.append("hash:" + h) }
            for key in keys {
                if let j = firstByKey[key] { union(i, j) } else { firstByKey[key] = i }
            }
        }
        var members = [Int: [Int]]()
        for i in samples.indices { members[find(i), default: []].append(i) }
        return members.keys.sorted().map { root in
            let indices = members[root]!
            var votes = [String: Int]()
            for i in indices { votes[samples[i].className ?? "", default: 0] += 1 }
            // Majority class; ties (e.g. the BUSI duplicate, benign + malignant) go to the first name.
            let stratum = votes.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
            return Group(ids: indices.map { samples[$0].id }.sorted(by: FolderListing.naturalOrder), stratum: stratum)
        }
    }
}

/// Reads, validates and writes split files.
public enum SplitStore {
    /// Loads a split and checks it against `dataset`: every id must exist and no id may be in two partitions.
    public static func load(_ url: URL, dataset: Dataset) throws -> DatasetSplit {
        let split: DatasetSplit
        do {
            split = try DefaultsDecoder().decode(DatasetSplit.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw DatasetError.invalidSplit(path: url.path, reason: "not a split file: \(error)")
        } catch {
            throw DatasetError.invalidSplit(path: url.path, reason: "cannot read it")
        }
        let known = Set(dataset.samples.map(\.id))
        let missing = split.allIDs.filter { !known.contains($0) }
        if !missing.isEmpty {
            throw DatasetError.invalidSplit(path: url.path, reason: "\(missing.count) ids not in the dataset at "
                + "\(dataset.root.path), e.g. \(missing.prefix(3).joined(separator: ", "))")
        }
        var seen = Set<String>()
        for id in split.allIDs where !seen.insert(id).inserted {
            throw DatasetError.invalidSplit(path: url.path, reason: "id \(id) is in more than one partition")
        }
        return split
    }

    /// Writes `split` as JSON atomically.
    public static func write(_ split: DatasetSplit, to url: URL) throws {
        try JSONFiles.write(split, to: url)
    }

    /// The split at `url` if it exists (validated, and it must have been made with `configuration`),
    /// otherwise a new one, written there. `created` tells which happened.
    public static func loadOrCreate(_ url: URL, dataset: Dataset, configuration: SplitConfiguration,
                                    hashes: (() -> [String: String])? = nil) throws -> (split: DatasetSplit, created: Bool) {
        if FileManager.default.fileExists(atPath: url.path) {
            let split = try load(url, dataset: dataset)
            guard split.configuration == configuration else {
                throw DatasetError.invalidSplit(path: url.path, reason: "it was made with \(describe(split.configuration)), "
                    + "not \(describe(configuration)); delete it to make a new split")
            }
            return (split, false)
        }
        let split = try SplitMaker.make(dataset, hashes: hashes?() ?? ContentHash.imageHashes(dataset.samples),
                                        configuration: configuration)
        try write(split, to: url)
        return (split, true)
    }

    static func describe(_ c: SplitConfiguration) -> String {
        "folds \(c.folds), test fraction \(c.testFraction), validation fraction \(c.validationFraction), seed \(c.seed)"
    }
}
