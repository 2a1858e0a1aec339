import CDicom
import Foundation
import SonoImaging
import XCTest

/// DICOM files made with DCMTK itself (the library the reader uses) and TIFF files written byte by byte.
final class DICOMAndTIFFTests: XCTestCase {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-dicom-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// A gradient with a bright square, `frames` times (each frame a little brighter).
    func frames(_ n: Int, width: Int = 40, height: Int = 30, channels: Int = 1) -> [UInt8] {
        (0..<n).flatMap { f in
            (0..<(width * height)).flatMap { i -> [UInt8] in
                let (x, y) = (i % width, i / width)
                let v = UInt8(min(255, (x + y) * 3 + f * 10 + ((10..<20).contains(x) && (8..<16).contains(y) ? 120 : 0)))
                return [UInt8](repeating: v, count: channels)
            }
        }
    }

    func writeDICOM(_ name: String, pixels: [UInt8], frames: Int = 1, channels: Int = 1, spacing: Double = 0, mode: Int32 = 0,
                    transfer: Int32 = 0) throws -> URL {
        let url = folder.appendingPathComponent(name)
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let status = sono_write_dicom(url.path, pixels, 40, 30, Int32(frames), Int32(channels), spacing, mode, transfer, &message)
        XCTAssertEqual(status, 0, String(cString: message))
        return url
    }

    func testUncompressedFileWithUltrasoundRegionsGivesItsPixelsAndSpacing() throws {
        let pixels = frames(1)
        let url = try writeDICOM("us.dcm", pixels: pixels, spacing: 0.2, mode: 1)
        let scan = try ImageIO.readScan(url)
        XCTAssertEqual(scan.format, .dicom)
        XCTAssertEqual(scan.frames.count, 1)
        XCTAssertEqual(scan.frames[0].width, 40); XCTAssertEqual(scan.frames[0].height, 30)
        XCTAssertEqual(scan.frames[0].pixels, .uint8(pixels))
        XCTAssertEqual(scan.spacingMM!.x, 0.2, accuracy: 1e-9); XCTAssertEqual(scan.spacingMM!.y, 0.2, accuracy: 1e-9)
        XCTAssertEqual(scan.spacingSource, "ultrasound regions")
        XCTAssertEqual(try ImageIO.read(url).pixels, .uint8(pixels), "ImageIO.read gives the first frame")
    }

    func testRLEMultiFrameWithPixelSpacing() throws {
        let pixels = frames(3)
        let url = try writeDICOM("cine", pixels: pixels, frames: 3, spacing: 0.1, mode: 2, transfer: 1)
        let scan = try ImageIO.readScan(url)
        XCTAssertEqual(scan.frames.count, 3)
        XCTAssertEqual(scan.frames.flatMap { f -> [UInt8] in if case let .uint8(v) = f.pixels { return v }; return [] }, pixels)
        XCTAssertEqual(scan.spacingMM!.x, 0.1, accuracy: 1e-9)
        XCTAssertEqual(scan.spacingSource, "pixel spacing")
    }

    func testJPEGCompressedColourWithoutSpacing() throws {
        let pixels = frames(1, channels: 3)
        let url = try writeDICOM("colour.dcm", pixels: pixels, channels: 3, transfer: 2)
        let scan = try ImageIO.readScan(url)
        XCTAssertNil(scan.spacingMM)
        XCTAssertEqual(scan.frames[0].channels, 3)
        guard case let .uint8(decoded) = scan.frames[0].pixels else { return XCTFail() }
        let error = zip(decoded, pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +) / pixels.count
        XCTAssertLessThan(error, 8, "lossy but close")
    }

    func testCorruptAndOversizedDICOMAreClearErrors() throws {
        let url = try writeDICOM("good.dcm", pixels: frames(1))
        let bytes = try [UInt8](Data(contentsOf: url))
        let truncated = folder.appendingPathComponent("truncated.dcm")
        try Data(bytes.prefix(bytes.count - 700)).write(to: truncated)
        XCTAssertThrowsError(try ImageIO.readScan(truncated)) { error in
            XCTAssertTrue("\(error)".hasPrefix(truncated.path + ": corrupt DICOM"), "\(error)")
        }
        let garbage = folder.appendingPathComponent("garbage.dcm")
        try Data([UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + [UInt8](repeating: 0xFF, count: 300)).write(to: garbage)
        XCTAssertThrowsError(try ImageIO.readScan(garbage)) { XCTAssertTrue("\($0)".contains("DICOM"), "\($0)") }
        XCTAssertThrowsError(try ImageIO.readScan(url, maxPixels: 100)) { error in
            guard case ImageError.tooLarge = error else { return XCTFail("\(error)") }
        }
    }

    /// A minimal baseline TIFF: 8-bit grey, one strip, little endian.
    func tiff(width: Int, height: Int, pixels: [UInt8], claimedWidth: Int? = nil) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        let entries: [(Int, Int, Int)] = [(256, 4, claimedWidth ?? width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                                          (273, 4, 8), (277, 3, 1), (278, 4, height), (279, 4, pixels.count)]
        var out: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + u32(8 + pixels.count) + pixels
        out += u16(entries.count)
        for (tag, type, value) in entries { out += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(value) + [0, 0] : u32(value)) }
        return out + u32(0)
    }

    func testTIFFReadsAndRefusesBadFiles() throws {
        let pixels = frames(1)
        let url = folder.appendingPathComponent("scan.tif")
        try Data(tiff(width: 40, height: 30, pixels: pixels)).write(to: url)
        let image = try ImageIO.read(url)
        XCTAssertEqual(image.width, 40); XCTAssertEqual(image.channels, 1)
        XCTAssertEqual(image.pixels, .uint8(pixels))
        XCTAssertEqual(try ImageIO.readScan(url).format, .tiff)
        XCTAssertThrowsError(try ImageIO.read(url, maxPixels: 100)) { error in
            guard case ImageError.tooLarge = error else { return XCTFail("\(error)") }
        }
        let lying = folder.appendingPathComponent("lying.tif")
        try Data(tiff(width: 40, height: 30, pixels: pixels, claimedWidth: 4000)).write(to: lying)
        XCTAssertThrowsError(try ImageIO.read(lying)) { XCTAssertTrue("\($0)".hasPrefix(lying.path + ": corrupt TIFF"), "\($0)") }
        let cut = folder.appendingPathComponent("cut.tif")
        try Data(tiff(width: 40, height: 30, pixels: pixels).prefix(20)).write(to: cut)
        XCTAssertThrowsError(try ImageIO.read(cut)) { XCTAssertTrue("\($0)".contains("TIFF"), "\($0)") }
    }

    /// The seeds scripts/make-dicom-fixtures.py wrote with pydicom, an independent writer: the same pixels and
    /// spacing come back.
    func testFilesWrittenByPydicomReadTheSame() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus")
        func expected(frame f: Int) -> [UInt8] {
            (0..<(48 * 32)).map { i in
                let (x, y) = (i % 48, i / 48)
                let base = (8..<20).contains(y) && (12..<30).contains(x) ? 30 : (x + y) * 3 % 256
                return UInt8(min(255, base + 8 * f))
            }
        }
        let single = try ImageIO.readScan(corpus.appendingPathComponent("us-regions.dcm"))
        XCTAssertEqual(single.frames.map(\.pixels), [.uint8(expected(frame: 0))])
        XCTAssertEqual(single.spacingMM!.y, 0.2, accuracy: 1e-9)
        let cine = try ImageIO.readScan(corpus.appendingPathComponent("cine-rle.dcm"))
        XCTAssertEqual(cine.frames.map(\.pixels), (0..<3).map { .uint8(expected(frame: $0)) })
        XCTAssertEqual(cine.spacingSource, "pixel spacing")
        XCTAssertEqual(try ImageIO.read(corpus.appendingPathComponent("grey8.tif")).pixels, .uint8(expected(frame: 0)))
    }
}
