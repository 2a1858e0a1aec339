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
}
