import Foundation
import SonoBase
import SonoImaging
@testable import SonoData
import XCTest

final class ReaderTests: XCTestCase {
    func testBUSIReaderCountsMergesAndProblems() throws {
        let data = try SyntheticDatasets()
        let dataset = try Dataset.read(data.makeBUSI())
        XCTAssertEqual(dataset.layout, .busi)
        XCTAssertTrue(dataset.root.path.hasSuffix("Dataset_BUSI_with_GT"), "found one level down")
        XCTAssertEqual(dataset.imageFileCount, 7)
        XCTAssertEqual(dataset.maskFileCount, 10)
        XCTAssertEqual(dataset.samples.map(\.id), ["benign (1)", "benign (2)", "benign (10)", "malignant (1)",
                                                   "malignant (2)", "normal (1)", "normal (2)"])
        let first = dataset.samples[0]
        XCTAssertEqual(first.maskURLs.map(\.lastPathComponent),
                       ["benign (1)_mask.png", "benign (1)_mask_1.png", "benign (1)_mask_2.png"])
        XCTAssertEqual(first.className, "benign")
        let merged = try first.load().mask
        XCTAssertEqual(merged.area, 9 + 6 + 1, "union of the three lesion masks")
        XCTAssertEqual(dataset.problems.map(\.kind), [.maskWithoutImage])
        XCTAssertTrue(dataset.problems[0].message.contains("malignant (3)_mask.png"))
    }

    func testBUSIInspectorFindsEveryProblem() throws {
        let data = try SyntheticDatasets()
        let report = DatasetInspector().inspect(try Dataset.read(data.makeBUSI()))
        XCTAssertEqual(report.images, 7)
        XCTAssertEqual(report.masks, 10)
        XCTAssertNil(report.patients)
        XCTAssertEqual(report.classes, ["benign": 3, "malignant": 2, "normal": 2])
        XCTAssertEqual(report.problemCounts, ["maskWithoutImage": 1, "unreadableFile": 1, "nonBinaryMask": 1,
                                              "sizeMismatch": 1, "emptyMaskOnLesion": 1, "duplicateImage": 1])
        let base = data.path("busi/Dataset_BUSI_with_GT")
        func problem(_ kind: DatasetProblem.Kind) -> DatasetProblem { report.problems.first { $0.kind == kind }! }
        XCTAssertEqual(problem(.duplicateImage).files, ["\(base)/benign/benign (1).png", "\(base)/malignant/malignant (2).png"])
        XCTAssertTrue(problem(.duplicateImage).message.contains("labelled benign and malignant"))
        XCTAssertEqual(problem(.unreadableFile).message, "\(base)/normal/normal (2).png: not a PNG/JPEG/BMP/TIFF/DICOM image")
        XCTAssertTrue(problem(.sizeMismatch).message.hasPrefix("\(base)/malignant/malignant (1)_mask.png: mask is 8×8"))
        XCTAssertEqual(problem(.nonBinaryMask).files, ["\(base)/benign/benign (2)_mask.png"])
        XCTAssertEqual(problem(.emptyMaskOnLesion).files, ["\(base)/benign/benign (10)_mask.png"])
        XCTAssertEqual(report.maskStatistics.emptyMasks, 2)  // benign (10) and normal (1)
        XCTAssertEqual(report.maskStatistics.multipleComponents, 2)  // benign (1); benign (2) whose 128 speck is above 50%
        // The JSON has the keys the CLI promises, with patients as an explicit null.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        for key in ["layout", "images", "masks", "patients", "classes", "problems"] { XCTAssertNotNil(json[key], key) }
        XCTAssertTrue(json["patients"] is NSNull)
    }

    func testBUSBRAReaderLabelsPatientsAndMissingFiles() throws {
        let data = try SyntheticDatasets()
        let dataset = try Dataset.read(data.makeBUSBRA())
        XCTAssertEqual(dataset.layout, .busBra)
        XCTAssertEqual(dataset.samples.count, 5)
        XCTAssertEqual(dataset.imageFileCount, 6)
        let first = dataset.samples[0]
        XCTAssertEqual(first.id, "bus_0001-l")
        XCTAssertEqual(first.patient, "1")
        XCTAssertEqual(first.birads, "3")
        XCTAssertEqual(first.pathology, "benign")
        XCTAssertEqual(first.className, "benign")
        XCTAssertEqual(first.attributes["Case"], "1")
        XCTAssertEqual(first.attributes["BBOX"], "[2,3,4,4]")
        XCTAssertEqual(first.maskURLs.map(\.lastPathComponent), ["mask_0001-l.png"])
        XCTAssertEqual(dataset.samples[2].birads, "4")
        XCTAssertEqual(dataset.problems.map(\.kind), [.missingFile, .unlistedImage])
        XCTAssertEqual(dataset.problems[0].message,
                       "\(data.path("bus-bra/BUSBRA/bus_data.csv")): line 7 names bus_0999-l but Images/bus_0999-l.png does not exist")
        let report = DatasetInspector().inspect(dataset)
        XCTAssertEqual(report.patients, 4)
        XCTAssertEqual(report.labels, ["3": 3, "4": 2])
    }

    func testUDIATReader() throws {
        let data = try SyntheticDatasets()
        let dataset = try Dataset.read(data.makeUDIAT())
        XCTAssertEqual(dataset.layout, .udiat)
        XCTAssertEqual(dataset.samples.map(\.id), ["000001", "000002", "000003"])
        XCTAssertEqual(dataset.problems.map(\.kind), [.maskWithoutImage])
        XCTAssertTrue(dataset.problems[0].message.contains("GT/000009.png"))
    }

    /// nnU-Net's raw layout: channel-suffixed images, 0/1 label maps, found from a parent folder.
    func testNNUNetRawLayout() throws {
        let data = try SyntheticDatasets()
        let task = "nnUNet_raw/Dataset501_BUS"
        for (i, name) in ["case_001", "case_002"].enumerated() {
            try data.write(SyntheticDatasets.image(seed: i), "\(task)/imagesTr/\(name)_0000.png")
            let labels = SyntheticDatasets.mask().pixels   // 0/1 values, saved as they are
            try data.write(Image(width: 12, height: 10, channels: 1, pixels: .uint8(labels)), "\(task)/labelsTr/\(name).png")
        }
        try data.write(SyntheticDatasets.image(seed: 9), "\(task)/imagesTr/case_003_0000.png")
        let dataset = try Dataset.read(data.root.appendingPathComponent("nnUNet_raw"))
        XCTAssertEqual(dataset.layout, .nnunet)
        XCTAssertEqual(dataset.samples.map(\.id), ["case_001", "case_002"])
        XCTAssertEqual(dataset.problems.map(\.kind), [.imageWithoutMask])
        XCTAssertEqual(try dataset.samples[0].load().mask.area, 16, "0/1 labels read as lesion")
    }

    func testPairedReaderWithLabelsAndBrokenFiles() throws {
        let data = try SyntheticDatasets()
        let dataset = try Dataset.read(data.makePaired(), layout: .paired)
        XCTAssertEqual(dataset.samples.map(\.id), ["a", "b", "c", "zero"])
        XCTAssertEqual(dataset.samples.map(\.className), ["benign", "malignant", "benign", nil])
        XCTAssertEqual(Set(dataset.problems.map(\.kind)), [.imageWithoutMask, .missingFile])
        XCTAssertTrue(dataset.problems.contains { $0.message.contains("line 5 names ghost.png") })
        let report = DatasetInspector().inspect(dataset)
        let unreadable = report.problems.filter { $0.kind == .unreadableFile }
        XCTAssertEqual(unreadable.map(\.message), ["\(data.path("paired/images/zero.png")): file is empty (0 bytes)"])
        XCTAssertEqual(try dataset.samples[1].load().image.width, 12, "a PNG named .jpg reads")
    }

    func testLayoutErrorsNameTheFolder() throws {
        let data = try SyntheticDatasets()
        let empty = try data.folder("nothing")
        XCTAssertThrowsError(try Dataset.read(empty)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(empty.path): no known dataset layout found"), "\(error)")
        }
        let busi = try data.makeBUSI()
        XCTAssertThrowsError(try Dataset.read(busi, layout: .busBra)) { error in
            XCTAssertTrue("\(error)".contains("not a bus-bra dataset"), "\(error)")
        }
        XCTAssertThrowsError(try Dataset.read(data.root.appendingPathComponent("missing"))) { error in
            XCTAssertTrue("\(error)".contains("missing: not a folder"))
        }
    }

    func testCSVQuotingAndSeparators() throws {
        let table = try CSVTable(text: "\u{FEFF}a;b;c\r\n1;\"x;y\";\"say \"\"hi\"\"\"\r\n\r\n2;\"multi\nline\";3\n", path: "t.csv",
                                 separator: ";")
        XCTAssertEqual(table.header, ["a", "b", "c"])
        XCTAssertEqual(table.rows, [["1", "x;y", "say \"hi\""], ["2", "multi\nline", "3"]])
        XCTAssertEqual(table.lineNumbers, [2, 4])
        XCTAssertThrowsError(try table.column("d")) { XCTAssertEqual("\($0)", "t.csv: CSV has no column \"d\"") }
        XCTAssertThrowsError(try CSVTable(text: "a\n\"open", path: "u.csv")) { XCTAssertTrue("\($0)".hasPrefix("u.csv:")) }
    }
}
