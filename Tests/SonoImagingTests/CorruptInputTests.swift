import Foundation
import SonoImaging
import XCTest

/// Damaged files must produce errors, never crashes or silently wrong pixels.
final class CorruptInputTests: XCTestCase {
    func testEveryTruncationOfAPNGIsAnError() throws {
        let bytes = [UInt8](try ImageIO.encodePNG(Image(width: 9, height: 7, channels: 3,
            pixels: .uint8((0..<189).map { UInt8($0) }))))
        XCTAssertNoThrow(try ImageIO.decode(bytes, path: "full.png"))
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try ImageIO.decode(Array(bytes.prefix(length)), path: "cut.png"), "length \(length)") { error in
                XCTAssertTrue("\(error)".hasPrefix("cut.png: "), "\(error)")
            }
        }
    }

    func testEveryTruncationOfAJPEGIsAnError() throws {
        let bytes = try ImageIO.readBytes(TestPaths.fixture("baseline.jpg"))
        // Cutting only the final EOI marker (2 bytes) leaves all pixel data intact; libjpeg accepts that.
        for length in 0..<(bytes.count - 2) {
            XCTAssertThrowsError(try ImageIO.decode(Array(bytes.prefix(length)), path: "cut.jpg"), "length \(length)")
        }
    }

    func testFlippedBytesInPixelDataAreAnError() throws {
        let bytes = [UInt8](try ImageIO.encodePNG(Image(width: 16, height: 16, channels: 1,
            pixels: .uint8((0..<256).map { UInt8($0) }))))
        // Find the IDAT chunk and damage its compressed data: the CRC check must catch it.
        let idat = try XCTUnwrap((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == Array("IDAT".utf8) })
        var damaged = bytes
        damaged[idat + 8] ^= 0xFF
        XCTAssertThrowsError(try ImageIO.decode(damaged, path: "flip.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("flip.png: corrupt PNG"), "\(error)")
        }
    }

    func testBrokenBMPs() {
        XCTAssertThrowsError(try ImageIO.decode(Array("BM".utf8) + [UInt8](repeating: 0, count: 10), path: "short.bmp")) { error in
            XCTAssertEqual("\(error)", "short.bmp: corrupt BMP (file is truncated (header))")
        }
    }

    /// A PNG whose header claims 20000 x 20000 (a few hundred bytes on disk) is refused from the header, before
    /// 400 million pixels are allocated; the caller's limit is honoured in both directions.
    func testSizeBombsAreRefusedFromTheHeader() throws {
        let small = [UInt8](try ImageIO.encodePNG(Image(width: 9, height: 7, channels: 1, pixels: .uint8(.init(repeating: 7, count: 63)))))
        var bomb = small
        // IHDR data starts at byte 16 (8-byte signature, 4-byte length, "IHDR"): width and height, big-endian.
        for (offset, value) in [(16, UInt32(20_000)), (20, UInt32(20_000))] {
            for k in 0..<4 { bomb[offset + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) }
        }
        let crc = crc32(Array(bomb[12..<29]))
        for k in 0..<4 { bomb[29 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        let started = Date()
        XCTAssertThrowsError(try ImageIO.decode(bomb, path: "bomb.png")) { error in
            XCTAssertTrue("\(error)".contains("20000x20000 = 400.0 megapixels, above the limit of 100.0 (--max-pixels)"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "the limit must act before decoding")
        XCTAssertThrowsError(try ImageIO.decode(small, path: "small.png", maxPixels: 62)) { error in
            XCTAssertTrue("\(error)".contains("above the limit"), "\(error)")
        }
        XCTAssertNoThrow(try ImageIO.decode(small, path: "small.png", maxPixels: 63))

        // The JPEG's SOF0 frame header: FF C0, length (2), precision (1), height (2), width (2).
        var jpeg = try ImageIO.readBytes(TestPaths.fixture("baseline.jpg"))
        let sof = try XCTUnwrap((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        for k in [5, 7] { (jpeg[sof + k], jpeg[sof + k + 1]) = (0x4E, 0x20) }   // 20000
        XCTAssertThrowsError(try ImageIO.decode(jpeg, path: "bomb.jpg")) { error in
            XCTAssertTrue("\(error)".contains("above the limit"), "\(error)")
        }
    }

    /// libjpeg only warns about corrupt data and decodes garbled pixels anyway; SonoSeg refuses the file.
    func testCorruptJPEGDataIsAnErrorNotAWarning() throws {
        let jpeg = try ImageIO.readBytes(TestPaths.fixture("baseline.jpg"))
        XCTAssertNoThrow(try ImageIO.decode(jpeg, path: "good.jpg"))
        // Bytes between two markers: libjpeg skips them with "Corrupt JPEG data: 2 extraneous bytes before marker".
        // (after the first segment: FF xx, then its 2-byte big-endian length, which counts itself).
        let next = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5]))
        let damaged = Array(jpeg.prefix(next)) + [0x12, 0x34] + Array(jpeg.dropFirst(next))
        XCTAssertThrowsError(try ImageIO.decode(damaged, path: "extra.jpg")) { error in
            XCTAssertTrue("\(error)".hasPrefix("extra.jpg: corrupt JPEG (Corrupt JPEG data"), "\(error)")
        }
    }

    /// A BMP whose pixel offset points into its own headers decoded header bytes as pixels.
    func testBMPPixelOffsetInsideTheHeadersIsAnError() throws {
        var bmp = try ImageIO.readBytes(TestPaths.fixture("rgb24.bmp"))
        XCTAssertNoThrow(try ImageIO.decode(bmp, path: "good.bmp"))
        for k in 10..<14 { bmp[k] = 0 }
        XCTAssertThrowsError(try ImageIO.decode(bmp, path: "offset.bmp")) { error in
            XCTAssertTrue("\(error)".contains("pixel data offset 0 lies inside the headers"), "\(error)")
        }
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
