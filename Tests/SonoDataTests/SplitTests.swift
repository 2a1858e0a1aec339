import Foundation
import SonoBase
@testable import SonoData
import XCTest

final class SplitTests: XCTestCase {
    /// 60 patients × 1–3 images, two classes, plus one duplicate pair across classes.
    private func syntheticDataset() -> (Dataset, [String: String]) {
        var samples = [Sample](), hashes = [String: String]()
        for p in 0..<60 {
            for k in 0..<(1 + p % 3) {
                let id = "p\(p)-\(k)"
                samples.append(Sample(id: id, imageURL: URL(fileURLWithPath: "/x/\(id).png"), maskURLs: [],
                                      className: p % 4 == 0 ? "malignant" : "benign", patient: "\(p)"))
                hashes[id] = "h-\(id)"
            }
        }
        hashes["p1-0"] = "same"; hashes["p4-0"] = "same"  // duplicate image across two patients and classes
        return (Dataset(layout: .busBra, root: URL(fileURLWithPath: "/x"), samples: samples, problems: [],
                        imageFileCount: samples.count, maskFileCount: 0), hashes)
    }

    func testFoldsGroupPatientsAndDuplicatesAndAreDeterministic() throws {
        let (dataset, hashes) = syntheticDataset()
        let configuration = SplitConfiguration(folds: 5, testFraction: 0.2, seed: 7)
        let split = try SplitMaker.make(dataset, hashes: hashes, configuration: configuration)
        XCTAssertEqual(split, try SplitMaker.make(dataset, hashes: hashes, configuration: configuration), "same seed, same split")
        XCTAssertNotEqual(split, try SplitMaker.make(dataset, hashes: hashes, configuration: SplitConfiguration(seed: 8)))
        let membership = split.membership
        XCTAssertEqual(membership.count, dataset.samples.count, "every sample in exactly one partition")
        XCTAssertEqual(split.allIDs.count, dataset.samples.count)
        var partitionOfPatient = [String: String]()
        for sample in dataset.samples {
            let partition = membership[sample.id]!
            if let seen = partitionOfPatient[sample.patient!] { XCTAssertEqual(seen, partition, "patient \(sample.patient!) straddles") }
            partitionOfPatient[sample.patient!] = partition
        }
        XCTAssertEqual(membership["p1-0"], membership["p4-0"], "duplicates stay together")
        XCTAssertEqual(membership["p1-1"], membership["p4-0"], "and drag their patients along")
        XCTAssertEqual(split.folds.count, 5)
        XCTAssertEqual(Double(split.test.count), 0.2 * Double(dataset.samples.count), accuracy: 4)
        for fold in split.folds {
            let malignant = fold.filter { id in dataset.samples.first { $0.id == id }!.className == "malignant" }.count
            XCTAssertEqual(Double(malignant) / Double(fold.count), 0.25, accuracy: 0.15, "stratified")
        }
        let (train, validation) = try split.partition(fold: 2)
        XCTAssertEqual(Set(train).intersection(validation), [])
        XCTAssertEqual(train.count + validation.count + split.test.count, dataset.samples.count)
        XCTAssertThrowsError(try split.partition(fold: 5))
    }

    func testSingleTrainValidationSplit() throws {
        let (dataset, hashes) = syntheticDataset()
        let split = try SplitMaker.make(dataset, hashes: hashes,
                                        configuration: SplitConfiguration(folds: 0, testFraction: 0.1, validationFraction: 0.25))
        XCTAssertTrue(split.folds.isEmpty)
        XCTAssertEqual(split.train.count + split.validation.count + split.test.count, dataset.samples.count)
        XCTAssertGreaterThan(split.validation.count, 15)
    }

    func testStoreWritesOnceReusesAndValidates() throws {
        let data = try SyntheticDatasets()
        let dataset = try Dataset.read(data.makeBUSI())
        let url = data.root.appendingPathComponent("splits/split.json")
        let configuration = SplitConfiguration(folds: 2, testFraction: 0.3, seed: 1)
        let (split, created) = try SplitStore.loadOrCreate(url, dataset: dataset, configuration: configuration)
        XCTAssertTrue(created)
        XCTAssertEqual(split.membership["benign (1)"], split.membership["malignant (2)"], "BUSI-style duplicate kept together")
        let (again, createdAgain) = try SplitStore.loadOrCreate(url, dataset: dataset, configuration: configuration)
        XCTAssertFalse(createdAgain)
        XCTAssertEqual(again, split)
        XCTAssertThrowsError(try SplitStore.loadOrCreate(url, dataset: dataset, configuration: SplitConfiguration(seed: 2))) {
            XCTAssertTrue("\($0)".hasPrefix("\(url.path): invalid split file (it was made with"), "\($0)")
        }
        var tampered = split
        tampered.test.append("no such image")
        try SplitStore.write(tampered, to: url)
        XCTAssertThrowsError(try SplitStore.load(url, dataset: dataset)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path): invalid split file (1 ids not in the dataset"), "\(error)")
            XCTAssertTrue("\(error)".contains("no such image"))
        }
        try Data("{}".utf8).write(to: url)
        XCTAssertThrowsError(try SplitStore.load(url, dataset: dataset)) { XCTAssertTrue("\($0)".contains("not a split file")) }
    }

    func testSeededRNGIsReproducibleAndUniform() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var s1 = RandomGenerator(seed: 1, stream: [3, 9]), s2 = RandomGenerator(seed: 1, stream: [9, 3])
        XCTAssertNotEqual(s1.next(), s2.next())
        var rng = RandomGenerator(seed: 5)
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<4000 { counts[rng.nextInt(below: 4)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 1000) < 120 }, "\(counts)")
        let normals = (0..<4000).map { _ in rng.normal() }
        XCTAssertEqual(normals.reduce(0, +) / 4000, 0, accuracy: 0.06)
    }
}
