import SonoImaging
import XCTest

/// Pixel values come from `scripts/fixtures/make_image_fixtures.py` (Pillow), which wrote the fixtures.
final class CodecFixtureTests: XCTestCase {
    private func read(_ name: String) throws -> Image { try ImageIO.read(TestPaths.fixture(name)) }

    func testGrey8() throws {
        let image = try read("grey8.png")
        XCTAssertEqual([image.width, image.height, image.channels], [7, 5, 1])
        XCTAssertEqual(image.byte(x: 3, y: 2, channel: 0), 45)
    }

    func testGrey16KeepsSixteenBits() throws {
        let image = try read("grey16.png")
        XCTAssertEqual(image.sourceBitDepth, 16)
        guard case .float = image.pixels else { return XCTFail("16-bit PNG should decode to float samples") }
        XCTAssertEqual(image.value(x: 3, y: 2, channel: 0) * 65535, 9007, accuracy: 0.05)
        XCTAssertEqual(image.value(x: 6, y: 4, channel: 0) * 65535, 18007, accuracy: 0.05)
    }

    func testRGBAndAlphaVariants() throws {
        let rgb = try read("rgb.png")
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual((0..<3).map { rgb.byte(x: 3, y: 2, channel: $0) }, [45, 85, 118])
        let rgba = try read("rgba.png")
        XCTAssertEqual(rgba.channels, 4)
        XCTAssertEqual((0..<4).map { rgba.byte(x: 3, y: 2, channel: $0) }, [45, 85, 118, 128])
        XCTAssertEqual(rgba.droppingAlpha(), rgb)
        let greyAlpha = try read("grey_alpha.png")
        XCTAssertEqual(greyAlpha.channels, 2)
        XCTAssertEqual([greyAlpha.byte(x: 3, y: 2, channel: 0), greyAlpha.byte(x: 3, y: 2, channel: 1)], [45, 200])
        let grey = GrayConversion(greyAlpha)
        XCTAssertEqual(grey.image[3, 2] * 255, 45, accuracy: 1e-3)
        XCTAssertFalse(grey.channelsDiffered)
    }

    func testPaletteExpandsToRGB() throws {
        let image = try read("palette.png")
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual((0..<3).map { image.byte(x: 3, y: 2, channel: $0) }, [0, 255, 0])
    }

    func testOneBitMask() throws {
        let reading = try ImageIO.readMask(TestPaths.fixture("mask1bit.png"))
        XCTAssertEqual(reading.mask[3, 2], 1)
        XCTAssertEqual(reading.mask[0, 0], 0)
        XCTAssertEqual(reading.mask.area, 17)
        XCTAssertTrue(reading.isBinary)
    }

    func testJPEGBaselineAndProgressive() throws {
        let baseline = try read("baseline.jpg")
        XCTAssertEqual([baseline.width, baseline.height, baseline.channels], [24, 16, 3])
        let expected: [(Int, [Int])] = [(4, [200, 30, 59]), (20, [128, 128, 128])]
        for (x, values) in expected {
            for c in 0..<3 {
                // Different libjpeg builds may round the IDCT differently by a level or two.
                XCTAssertEqual(Int(baseline.byte(x: x, y: 8, channel: c)), values[c], accuracy: 2)
            }
        }
        let progressive = try read("progressive.jpg")
        XCTAssertEqual([progressive.width, progressive.height, progressive.channels], [24, 16, 1])
        XCTAssertEqual(Int(progressive.byte(x: 4, y: 8, channel: 0)), 30, accuracy: 2)
        XCTAssertEqual(Int(progressive.byte(x: 12, y: 8, channel: 0)), 180, accuracy: 2)
    }

    func testBMP() throws {
        let rgb = try read("rgb24.bmp")
        XCTAssertEqual((0..<3).map { rgb.byte(x: 3, y: 2, channel: $0) }, [45, 85, 118])
        let grey = try read("grey8.bmp")
        XCTAssertEqual(grey.channels, 1)
        XCTAssertEqual(grey.byte(x: 3, y: 2, channel: 0), 45)
    }

    func testWrongExtensionStillReads() throws {
        XCTAssertEqual(try read("png_named.jpg"), try read("rgb.png"))
    }

    func testBrokenFilesGiveErrorsNamingTheFile() throws {
        for (name, fragment) in [("truncated.png", "corrupt PNG"), ("truncated.jpg", "corrupt JPEG"),
                                 ("text.png", "not a PNG/JPEG/BMP/TIFF/DICOM image")] {
            let url = try TestPaths.fixture(name)
            XCTAssertThrowsError(try ImageIO.read(url), name) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(url.path), message)
                XCTAssertTrue(message.contains(fragment), message)
            }
        }
    }

    func testEmptyAndMissingFiles() throws {
        let folder = try TestPaths.temporaryFolder()
        let empty = folder.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        XCTAssertThrowsError(try ImageIO.read(empty)) { XCTAssertEqual($0 as? ImageError, .emptyFile(path: empty.path)) }
        let missing = folder.appendingPathComponent("missing.png")
        XCTAssertThrowsError(try ImageIO.read(missing)) { error in
            XCTAssertTrue("\(error)".contains("missing.png"))
            XCTAssertTrue("\(error)".contains("no such file"))
        }
    }

    func testPNGRoundTripAndAtomicWrite() throws {
        let folder = try TestPaths.temporaryFolder()
        let grey = Image(width: 3, height: 2, channels: 1, pixels: .uint8([0, 1, 2, 127, 254, 255]))
        let rgb = Image(width: 2, height: 2, channels: 3, pixels: .uint8([1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252]))
        for (name, image) in [("grey.png", grey), ("rgb.png", rgb)] {
            let url = folder.appendingPathComponent(name)
            try ImageIO.writePNG(image, to: url)
            XCTAssertEqual(try ImageIO.read(url), image)
            try ImageIO.writePNG(image, to: url)  // overwriting is fine
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [])
        XCTAssertThrowsError(try ImageIO.writePNG(grey, to: URL(fileURLWithPath: "/proc/nope/x.png"))) { error in
            XCTAssertTrue("\(error)".contains("/proc/nope/x.png"))
        }
    }
}
