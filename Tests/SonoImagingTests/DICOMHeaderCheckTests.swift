import CDicom
import Foundation
import SonoImaging
import XCTest

/// DICOM headers that promise more than the pixel data holds, or a sample layout no reader can trust. DCMTK pads
/// missing pixel data with black and decodes any BitsAllocated, so each of these once read as a plausible image
/// ("no lesion found"); SonoSeg refuses them, naming the file and the numbers that do not add up. The files are
/// written with DCMTK (40 × 30, 8 bit) and then have one header field changed in place.
final class DICOMHeaderCheckTests: XCTestCase {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-dicom-check-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// `frames` frames of 40 × 30 grey, as written by DCMTK (transfer 0 explicit little endian, 1 RLE, 2 JPEG).
    func dicomBytes(frames: Int = 1, transfer: Int32 = 0) throws -> [UInt8] {
        let url = folder.appendingPathComponent("written-\(UUID().uuidString).dcm")
        let pixels = (0..<(40 * 30 * frames)).map { UInt8(($0 * 7) % 251) }
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let status = sono_write_dicom(url.path, pixels, 40, 30, Int32(frames), 1, 0, 0, transfer, &message)
        XCTAssertEqual(status, 0, String(cString: message))
        return try [UInt8](Data(contentsOf: url))
    }

    /// Sets a US (unsigned short) element of group 0028 in an explicit-VR little-endian file: Rows 0010,
    /// BitsAllocated 0100, BitsStored 0101, HighBit 0102.
    func setUS(_ bytes: inout [UInt8], element: UInt16, to value: UInt16) throws {
        let tag: [UInt8] = [0x28, 0x00, UInt8(element & 0xFF), UInt8(element >> 8), 0x55, 0x53, 0x02, 0x00]
        let at = try XCTUnwrap((0..<(bytes.count - 10)).first { Array(bytes[$0..<($0 + 8)]) == tag }, "element (0028,\(element))")
        (bytes[at + 8], bytes[at + 9]) = (UInt8(value & 0xFF), UInt8(value >> 8))
    }

    /// Sets Number of Frames (0028,0008), an IS string, to a one-digit value.
    func setFrames(_ bytes: inout [UInt8], to value: Int) throws {
        let tag: [UInt8] = [0x28, 0x00, 0x08, 0x00, 0x49, 0x53, 0x02, 0x00]
        let at = try XCTUnwrap((0..<(bytes.count - 10)).first { Array(bytes[$0..<($0 + 8)]) == tag }, "Number of Frames")
        (bytes[at + 8], bytes[at + 9]) = (UInt8(ascii: "0") + UInt8(value), UInt8(ascii: " "))
    }

    func assertRefused(_ bytes: [UInt8], name: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try ImageIO.readScan(url), file: file, line: line) { error in
            XCTAssertEqual("\(error)", "\(url.path): \(expected)", file: file, line: line)
        }
    }

    func testMoreFramesThanThePixelDataHoldsIsRefused() throws {
        var bytes = try dicomBytes(frames: 3)
        try setFrames(&bytes, to: 5)
        try assertRefused(bytes, name: "five.dcm",
                          "corrupt DICOM (pixel data holds 3,600 bytes; Rows 30 × Columns 40 × 1 sample × 1 byte × 5 frames need 6,000)")
    }

    func testDoubledRowsIsRefusedNotHalfBlack() throws {
        var bytes = try dicomBytes()
        try setUS(&bytes, element: 0x0010, to: 60)
        try assertRefused(bytes, name: "tall.dcm",
                          "corrupt DICOM (pixel data holds 1,200 bytes; Rows 60 × Columns 40 × 1 sample × 1 byte × 1 frame need 2,400)")
    }

    /// Eight-bit data relabelled 16-bit holds half the bytes its header needs; with Rows halved as well it is a
    /// good 16-bit file and reads.
    func testSixteenBitSamplesAreCountedTwice() throws {
        var bytes = try dicomBytes()
        for (element, value) in [(UInt16(0x0100), UInt16(16)), (0x0101, 16), (0x0102, 15)] { try setUS(&bytes, element: element, to: value) }
        try assertRefused(bytes, name: "wide.dcm",
                          "corrupt DICOM (pixel data holds 1,200 bytes; Rows 30 × Columns 40 × 1 sample × 2 bytes × 1 frame need 2,400)")
        try setUS(&bytes, element: 0x0010, to: 15)
        let url = folder.appendingPathComponent("sixteen.dcm")
        try Data(bytes).write(to: url)
        let scan = try ImageIO.readScan(url)
        XCTAssertEqual([scan.frames.count, scan.frames[0].width, scan.frames[0].height], [1, 40, 15])
    }

    /// Bit layouts that do not add up are corrupt; 32-bit samples are valid DICOM that SonoSeg does not read.
    func testBitLayoutsSonoSegCannotReadAreRefusedWithAReason() throws {
        let cases: [(fields: [(UInt16, UInt16)], name: String, message: String)] = [
            ([(0x0100, 13)], "thirteen.dcm",
             "corrupt DICOM (BitsAllocated is 13, not 1 or a whole number of bytes as DICOM requires; its pixels would be garbage)"),
            ([(0x0101, 12)], "stored.dcm",
             "corrupt DICOM (BitsStored is 12 but BitsAllocated only 8; a sample cannot store more bits than it has)"),
            ([(0x0100, 32), (0x0101, 32), (0x0102, 31)], "float.dcm",
             "valid but unsupported DICOM (BitsAllocated is 32; SonoSeg reads 8- or 16-bit samples)"),
        ]
        for c in cases {
            var bytes = try dicomBytes()
            for (element, value) in c.fields { try setUS(&bytes, element: element, to: value) }
            try assertRefused(bytes, name: c.name, c.message)
        }
    }

    /// DCMTK's decoders size their output from the header and leave what the compressed data lacks black, so the
    /// compressed data is checked: a fragment per frame, RLE segments of Rows × Columns bytes, the JPEG's own size.
    func testCompressedPixelDataIsCheckedAgainstTheHeader() throws {
        let rle = try dicomBytes(frames: 3, transfer: 1)
        XCTAssertEqual(try ImageIO.decode(rle, path: "rle.dcm").width, 40)
        var fourFrames = rle
        try setFrames(&fourFrames, to: 4)
        try assertRefused(fourFrames, name: "rle4.dcm", "corrupt DICOM (compressed pixel data holds 3 fragments; NumberOfFrames 4 needs one at least per frame)")
        var tallRLE = rle
        try setUS(&tallRLE, element: 0x0010, to: 60)
        try assertRefused(tallRLE, name: "tall-rle.dcm", "corrupt DICOM (RLE frame 1 decodes to 1,200 bytes per segment; Rows 60 × Columns 40 need 2,400)")
        var jpeg = try dicomBytes(transfer: 2)
        XCTAssertEqual(try ImageIO.decode(jpeg, path: "jpeg.dcm").height, 30)
        try setUS(&jpeg, element: 0x0010, to: 60)
        try assertRefused(jpeg, name: "tall-jpeg.dcm", "corrupt DICOM (the JPEG data is 40 × 30 pixels; Columns 40 × Rows 60 say 40 × 60)")
    }
}
