import CDicom
import Foundation
import SonoImaging
import XCTest

/// DICOM objects out, read back through DCMTK's own readers (dcmseg, dcmsr) by CDicom's read-back helper; the
/// independent readers (highdicom, pydicom, dciodvfy) check them in scripts/check-dicom-out.sh.
final class DICOMObjectsTests: XCTestCase {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-dicom-out-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// A 40 × 30 ultrasound file (DCMTK's writer) with Study, Series and SOP Instance UIDs.
    func source(frames: Int = 1, spacing: Double = 0) throws -> URL {
        let url = folder.appendingPathComponent("source-\(frames).dcm")
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let pixels = [UInt8](repeating: 90, count: 40 * 30 * frames)
        XCTAssertEqual(sono_write_dicom(url.path, pixels, 40, 30, Int32(frames), 1, spacing, spacing > 0 ? 2 : 0, 0, &message), 0, String(cString: message))
        return url
    }

    /// A lesion of 10 × 8 pixels at (12, 6).
    var mask: Mask {
        var m = Mask(width: 40, height: 30)
        for y in 6..<14 { for x in 12..<22 { m[x, y] = 1 } }
        return m
    }

    func result(_ url: URL, frame: Int? = nil, spacing: Double? = nil) -> DICOMResult {
        var r = DICOMResult(source: url, frame: frame, mask: mask, spacingMM: spacing.map { (x: $0, y: $0) },
                            segmentationSeriesUID: DICOMObjects.newSeriesUID(), reportSeriesUID: DICOMObjects.newSeriesUID(),
                            instanceNumber: frame ?? 1, softwareVersion: "0.0.0-test", modelName: "test/model.safetensors",
                            modelSHA256: String(repeating: "ab", count: 32))
        (r.lesionFound, r.areaPixels, r.longAxisPixels, r.shortAxisPixels, r.depthPixels) = (true, 80, 12.0, 8.0, 6)
        if let s = spacing { (r.areaMM2, r.longAxisMM, r.shortAxisMM, r.depthMM) = (80 * s * s, 12 * s, 8 * s, 6 * s) }
        (r.lesionProbability, r.malignancyProbability, r.pathology, r.birads) = (0.9, 0.2, "benign", "3")
        return r
    }

    func read(_ data: Data) throws -> SonoDicomObjectInfo {
        var info = SonoDicomObjectInfo()
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let status = data.withUnsafeBytes { sono_read_dicom_object($0.bindMemory(to: UInt8.self).baseAddress, data.count, &info, &message) }
        XCTAssertEqual(status, 0, String(cString: message))
        return info
    }

    func text<T>(_ field: T) -> String { withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }

    func testSegmentationRoundTripsThroughDCMTK() throws {
        let url = try source(spacing: 0.1)
        let scan = try ImageIO.readScan(url)
        let objects = try DICOMObjects.make(result(url, spacing: 0.1))
        var seg = try read(objects.segmentation)
        defer { sono_dicom_free(seg.pixels) }
        XCTAssertEqual(text(seg.sop_class), "1.2.840.10008.5.1.4.1.1.66.4")
        XCTAssertEqual(text(seg.sop_instance), objects.segmentationUID)
        XCTAssertEqual(text(seg.study_uid), scan.uids?.study)
        XCTAssertNotEqual(text(seg.series_uid), scan.uids?.series)
        XCTAssertEqual(text(seg.referenced_sop_instance), scan.uids?.sopInstance)
        XCTAssertEqual(seg.referenced_frame, 0)
        XCTAssertEqual(seg.segments, 1)
        XCTAssertEqual([seg.columns, seg.rows], [40, 30])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: seg.pixels, count: 40 * 30)), mask.pixels)
        seg.pixels = nil

        let sr = try read(objects.report)
        XCTAssertEqual(text(sr.sop_class), "1.2.840.10008.5.1.4.1.1.88.33")   // Comprehensive SR
        XCTAssertEqual(text(sr.sop_instance), objects.reportUID)
        XCTAssertEqual(text(sr.study_uid), scan.uids?.study)
        XCTAssertEqual(sr.measurements, 6)   // area, long and short axis, depth, lesion probability, probability of cancer
    }

    func testMultiFrameSourceIsReferencedByFrame() throws {
        let url = try source(frames: 3)
        let objects = try DICOMObjects.make(result(url, frame: 2))
        let seg = try read(objects.segmentation)
        defer { sono_dicom_free(seg.pixels) }
        XCTAssertEqual(seg.referenced_frame, 2)
        XCTAssertThrowsError(try DICOMObjects.make(result(url, frame: nil)))   // a frame must be named
        XCTAssertThrowsError(try DICOMObjects.make(result(url, frame: 4)))
    }

    func testSourceWithoutSOPInstanceUIDIsRefused() throws {
        let url = try source()
        // (0008,0018) UI in the data set (past the meta header's MediaStorageSOPInstanceUID) renamed to (0008,0019)
        var bytes = try [UInt8](Data(contentsOf: url))
        let tag: [UInt8] = [0x08, 0x00, 0x18, 0x00, 0x55, 0x49]
        let at = try XCTUnwrap((132..<(bytes.count - tag.count)).first { Array(bytes[$0..<($0 + tag.count)]) == tag })
        bytes[at + 2] = 0x19
        let bad = folder.appendingPathComponent("no-sop-uid.dcm")
        try Data(bytes).write(to: bad)
        XCTAssertNil(try ImageIO.readScan(bad).uids?.sopInstance)   // still an image SonoSeg reads
        XCTAssertThrowsError(try DICOMObjects.make(result(bad))) { error in
            guard case DICOMObjects.Failure.refused(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("SOP Instance UID"), reason)
        }
    }

    func testNewSeriesUIDsAreDistinctUIDs() {
        let (a, b) = (DICOMObjects.newSeriesUID(), DICOMObjects.newSeriesUID())
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.count <= 64 && a.allSatisfy { $0.isNumber || $0 == "." }, a)
    }
}
