import Foundation
@testable import SonoData
import XCTest

/// The shared datasets' documented counts (`/work/shared/data/README.md`). Skipped where the data is absent.
final class RealDataTests: XCTestCase {
    private func shared(_ relative: String) throws -> URL {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
        guard FileManager.default.fileExists(atPath: data.path) else { throw XCTSkip("no shared data at \(data.path)") }
        return data.appendingPathComponent(relative)
    }

    func testBUSIInspectionMatchesTheREADME() throws {
        let report = DatasetInspector().inspect(try Dataset.read(shared("busi")))
        XCTAssertEqual(report.layout, "busi")
        XCTAssertEqual(report.images, 780)
        XCTAssertEqual(report.masks, 798)
        XCTAssertEqual(report.classes, ["benign": 437, "malignant": 210, "normal": 133])
        XCTAssertEqual(report.colourImages, 16)
        XCTAssertEqual(report.imageSizes.distinctSizes, 639)
        XCTAssertEqual(report.imageSizes.width?.min, 190)
        XCTAssertEqual(report.imageSizes.width?.max, 1048)
        let duplicates = report.problems.filter { $0.kind == .duplicateImage }
        XCTAssertEqual(duplicates.map { $0.files.map { URL(fileURLWithPath: $0).lastPathComponent } },
                       [["benign (433).png", "malignant (145).png"]])
        XCTAssertEqual(report.problems.count, 1, "\(report.problems.map(\.message))")
    }

    func testBUSIMultiMaskImages() throws {
        let dataset = try Dataset.read(shared("busi"))
        let multi = dataset.samples.filter { $0.maskURLs.count > 1 }
        // The README says "18 images have more than one mask: 17 benign"; on disk there are 18 extra mask
        // files (`_mask_1`/`_mask_2`) on 17 images, 16 benign (benign (195) has two extra) + malignant (53):
        // `ls */ | grep _mask_` lists them. 780 images + 18 extra = 798 masks, as the README's total says.
        XCTAssertEqual(multi.count, 17)
        XCTAssertEqual(multi.reduce(0) { $0 + $1.maskURLs.count - 1 }, 18)
        XCTAssertEqual(multi.filter { $0.className == "benign" }.count, 16)
        XCTAssertEqual(multi.filter { $0.className == "malignant" }.map(\.id), ["malignant (53)"])
        XCTAssertEqual(dataset.samples.first { $0.id == "benign (195)" }?.maskURLs.count, 3)
    }

    func testBUSBRAReaderMatchesTheREADME() throws {
        let dataset = try Dataset.read(shared("bus-bra"))
        XCTAssertEqual(dataset.layout, .busBra)
        XCTAssertEqual(dataset.samples.count, 1875)
        XCTAssertEqual(Set(dataset.samples.compactMap(\.patient)).count, 1064)
        var pathology = [String: Int](), birads = [String: Int]()
        for s in dataset.samples { pathology[s.pathology ?? "?", default: 0] += 1; birads[s.birads ?? "?", default: 0] += 1 }
        XCTAssertEqual(pathology, ["benign": 1268, "malignant": 607])
        XCTAssertEqual(birads, ["2": 562, "3": 463, "4": 693, "5": 157])
        XCTAssertEqual(dataset.problems, [])
    }
}
