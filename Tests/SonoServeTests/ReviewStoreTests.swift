import Foundation
import XCTest
import SonoData
import SonoImaging
import SonoPipeline
@testable import SonoServe

/// A reader's review lands where training reads it: ROOT/reviewed/images + masks, one record per item.
final class ReviewStoreTests: XCTestCase {
    func testAReviewIsATrainingPairWithItsRecord() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let frame = root.appendingPathComponent("frame.png")
        try ImageIO.writePNG(GrayImage(width: 8, height: 6, value: 0.5), to: frame)
        let input = SegmentInput(url: root.appendingPathComponent("sub/case.png"), relativePath: "sub/case.png")
        let item = WorkItem(id: Worklist.id("sub/case.png", frame: nil), input: input, frame: nil, stem: "sub/case", fileKey: "k",
                            reviewName: "sub__case")
        var model = Mask(width: 8, height: 6)
        model.pixels[9] = 1
        let store = ReviewStore(root: root)

        let accepted = try store.save(item, image: frame, mask: model, modelMask: model, reader: "dr a", edited: nil,
                                      model: "m", modelSHA256: "abc", threshold: 0.5)
        XCTAssertEqual(accepted.status, "reviewed")
        XCTAssertEqual(accepted.changedPixels, 0)
        var corrected = model
        corrected.pixels[10] = 1
        let record = try store.save(item, image: frame, mask: corrected, modelMask: model, reader: "dr a", edited: nil,
                                    model: "m", modelSHA256: "abc", threshold: 0.5)
        XCTAssertEqual(record.status, "corrected")
        XCTAssertEqual(record.changedPixels, 1)
        XCTAssertEqual(record.maskPath, "reviewed/masks/sub__case.png")
        XCTAssertEqual(try ImageIO.readMask(root.appendingPathComponent(record.maskPath)).mask, corrected)
        let saved = try JSONDecoder().decode(ReviewRecord.self, from: Data(contentsOf: root.appendingPathComponent("reviewed/records/sub__case.json")))
        XCTAssertEqual(saved.reader, "dr a")
        XCTAssertEqual(saved.threshold, 0.5)
        // what `sonoseg train --data ROOT/reviewed` reads
        let dataset = try PairedFolderReader().read(root.appendingPathComponent("reviewed"))
        XCTAssertEqual(dataset.samples.map(\.id), ["sub__case"])
        XCTAssertTrue(dataset.problems.isEmpty, "\(dataset.problems)")
        // a new server reads the reviews back, and removes what a killed one left half-written
        let stray = root.appendingPathComponent("reviewed/masks/.sub__case.png.1234.tmp")
        try Data([1, 2, 3]).write(to: stray)
        XCTAssertEqual(ReviewStore(root: root).record(item)?.status, "corrected")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray.path))
        // no temporary files left beside them
        let left = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("reviewed/masks").path)
        XCTAssertEqual(left, ["sub__case.png"])
    }
}
