import Foundation
import SonoImaging
import XCTest

/// Valid files SonoSeg once refused or half-read: a multi-page TIFF (only page 1 was segmented, without a word),
/// 32-bit float TIFF, CMYK JPEG and 1-bit BMP. TIFFs are written byte by byte here; cmyk.jpg, cmyk_plain.jpg and onebit.bmp, and
/// the fuzz seeds read at the end, come from Fixtures/make_format_fixtures.py (Pillow, tifffile).
final class ValidFormatTests: XCTestCase {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-formats-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// One page of a TIFF: grey, one strip, `bits` 8 (unsigned) or 32/64 (`float` SampleFormat 3).
    struct Page {
        var width: Int, height: Int, bits = 8, float = false, reduced = false, data: [UInt8]
    }

    /// A little-endian TIFF of `pages`, each an image data strip followed by its directory.
    func tiff(_ pages: [Page]) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        var out: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + u32(0)
        var next = 4   // where the offset of the next directory goes: the header's, then each directory's last field
        for page in pages {
            let dataOffset = out.count
            out += page.data + (page.data.count % 2 == 1 ? [0] : [])
            let entries: [(Int, Int, Int)] = [(254, 4, page.reduced ? 1 : 0), (256, 4, page.width), (257, 4, page.height), (258, 3, page.bits), (259, 3, 1), (262, 3, 1),
                                              (273, 4, dataOffset), (277, 3, 1), (278, 4, page.height), (279, 4, page.data.count),
                                              (339, 3, page.float ? 3 : 1)]
            out.replaceSubrange(next..<(next + 4), with: u32(out.count))
            out += u16(entries.count)
            for (tag, type, value) in entries { out += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(value) + [0, 0] : u32(value)) }
            next = out.count
            out += u32(0)
        }
        return out
    }

    func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in let b = v.bitPattern; return (0..<4).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) } }
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func testEveryPageOfATIFFIsAFrame() throws {
        let pages = (0..<3).map { k in (0..<(8 * 6)).map { UInt8($0 * 2 + 60 * k) } }
        let url = try write(tiff(pages.map { Page(width: 8, height: 6, data: $0) }), "cine.tif")
        let scan = try ImageIO.readScan(url)
        XCTAssertEqual(scan.format, .tiff)
        XCTAssertEqual(scan.frames.map(\.pixels), pages.map { .uint8($0) })
        XCTAssertEqual(try ImageIO.read(url).pixels, .uint8(pages[0]), "ImageIO.read gives the first page, as it gives a DICOM file's first frame")
        // A reduced-resolution copy (SubfileType 1: a thumbnail) is not a page of the scan.
        let thumbnail = try write(tiff(pages.map { Page(width: 8, height: 6, data: $0) } + [Page(width: 4, height: 3, reduced: true, data: .init(repeating: 1, count: 12))]),
                                  "thumbnail.tif")
        XCTAssertEqual(try ImageIO.readScan(thumbnail).frames.map(\.pixels), pages.map { .uint8($0) })
    }

    func testTIFFPagesOfDifferentSizesAreRefused() throws {
        let url = try write(tiff([Page(width: 8, height: 6, data: .init(repeating: 9, count: 48)),
                                  Page(width: 4, height: 3, data: .init(repeating: 9, count: 12))]), "mixed.tif")
        XCTAssertThrowsError(try ImageIO.readScan(url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): valid but unsupported TIFF (page 2 is 4x3, 1 sample, page 1 8x6, 1 sample; "
                + "SonoSeg reads a TIFF's pages as the frames of one scan, which must be alike)")
        }
    }

    /// Float samples have no agreed range, so they are stretched by the file's minimum and maximum.
    func testFloatTIFFIsReadByMinMax() throws {
        let values: [Float] = (0..<(5 * 4)).map { Float($0) * 0.25 - 1 }   // -1 ... 3.75
        let url = try write(tiff([Page(width: 5, height: 4, bits: 32, float: true, data: floats(values))]), "float.tif")
        let image = try ImageIO.read(url)
        XCTAssertEqual([image.width, image.height, image.channels, image.sourceBitDepth], [5, 4, 1, 32])
        guard case let .float(read) = image.pixels else { return XCTFail("float TIFF should give float samples") }
        for (got, value) in zip(read, values) { XCTAssertEqual(got, (value + 1) / 4.75, accuracy: 1e-6) }
    }

    func testFloatTIFFsSonoSegCannotReadSaySo() throws {
        let nan = try write(tiff([Page(width: 2, height: 2, bits: 32, float: true, data: floats([0, 1, .nan, 2]))]), "nan.tif")
        XCTAssertThrowsError(try ImageIO.read(nan)) { error in
            XCTAssertEqual("\(error)", "\(nan.path): valid but unsupported TIFF (floating-point samples that are NaN or infinite)")
        }
        let double = try write(tiff([Page(width: 2, height: 2, bits: 64, float: true, data: .init(repeating: 0, count: 32))]), "double.tif")
        XCTAssertThrowsError(try ImageIO.read(double)) { error in
            XCTAssertEqual("\(error)", "\(double.path): valid but unsupported TIFF (64-bit floating-point samples; SonoSeg reads 32-bit)")
        }
    }

    /// Pillow writes CMYK inverted under an Adobe marker, as Photoshop does: white, black, cyan and half-black
    /// patches come back as RGB.
    func testCMYKJPEGReadsAsRGB() throws {
        let image = try ImageIO.read(TestPaths.fixture("cmyk.jpg"))
        XCTAssertEqual([image.width, image.height, image.channels], [32, 16, 3])
        let expected: [[Int]] = [[255, 255, 255], [0, 0, 0], [0, 255, 255], [127, 127, 127]]
        for (k, rgb) in expected.enumerated() {
            let got = (0..<3).map { Int(image.byte(x: 8 * k + 4, y: 8, channel: $0)) }
            for c in 0..<3 { XCTAssertEqual(got[c], rgb[c], accuracy: 6, "patch \(k): \(got)") }
        }
        XCTAssertEqual(GrayConversion(image).image[4 + 24, 8] * 255, 127, accuracy: 6)
    }

    /// Without the Adobe marker CMYK is plain (255 = full ink): the same four patches.
    func testCMYKJPEGWithoutAdobeMarkerIsPlainCMYK() throws {
        let image = try ImageIO.read(TestPaths.fixture("cmyk_plain.jpg"))
        XCTAssertEqual(image.channels, 3)
        let expected: [[Int]] = [[255, 255, 255], [0, 0, 0], [0, 255, 255], [127, 127, 127]]
        for (k, rgb) in expected.enumerated() {
            let got = (0..<3).map { Int(image.byte(x: 8 * k + 4, y: 8, channel: $0)) }
            for c in 0..<3 { XCTAssertEqual(got[c], rgb[c], accuracy: 6, "patch \(k): \(got)") }
        }
    }

    func testOneBitBMPReadsThroughItsPalette() throws {
        let image = try ImageIO.read(TestPaths.fixture("onebit.bmp"))
        XCTAssertEqual([image.width, image.height, image.channels, image.sourceBitDepth], [13, 5, 1, 1])
        let expected = (0..<(13 * 5)).map { i -> UInt8 in (i % 13 + 2 * (i / 13)) % 3 == 0 ? 255 : 0 }
        XCTAssertEqual(image.pixels, .uint8(expected))
    }

    /// A 1-bit BMP whose two palette colours are not grey becomes RGB; written here byte by byte (bottom-up rows of
    /// 4 bytes: 3 pixels need 3 bits, padded to 32).
    func testOneBitBMPWithAColourPalette() throws {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        let palette: [UInt8] = [0, 0, 255, 0, 255, 0, 0, 0]   // BGRx: red, blue
        let rows: [UInt8] = [0b0100_0000, 0, 0, 0, 0b1010_0000, 0, 0, 0]   // bottom row 0 1 0, top row 1 0 1
        let offset = 14 + 40 + palette.count
        let bmp = Array("BM".utf8) + u32(offset + rows.count) + u32(0) + u32(offset)
            + u32(40) + u32(3) + u32(2) + u16(1) + u16(1) + u32(0) + u32(rows.count) + u32(2835) + u32(2835) + u32(2) + u32(0)
            + palette + rows
        let image = try ImageIO.decode(bmp, path: "colours.bmp")
        XCTAssertEqual(image.channels, 3)
        let (red, blue): ([UInt8], [UInt8]) = ([255, 0, 0], [0, 0, 255])
        XCTAssertEqual(image.pixels, .uint8(blue + red + blue + red + blue + red))
    }

    /// The fuzz seeds of these formats (written by Pillow, tifffile and pydicom) read as their writer meant.
    func testFuzzSeedsOfTheNewFormatsRead() throws {
        let corpus = TestPaths.repositoryRoot.appendingPathComponent("fuzz/corpus")
        let pages = try ImageIO.readScan(corpus.appendingPathComponent("pages.tif"))
        XCTAssertEqual(pages.frames.count, 3)
        for (k, frame) in pages.frames.enumerated() { XCTAssertEqual(Int(frame.byte(x: 5, y: 3, channel: 0)), (5 + 3) * 4 + 40 * k) }
        let float = try ImageIO.read(corpus.appendingPathComponent("float32.tif"))
        XCTAssertEqual(float.value(x: 0, y: 0, channel: 0), 0)
        XCTAssertEqual(float.value(x: 23, y: 15, channel: 0), 1)
        XCTAssertEqual(float.value(x: 10, y: 8, channel: 0), (1 + 1 - 1 + 1) / (2.3 + 1.875), accuracy: 1e-5)
        XCTAssertEqual(try ImageIO.read(corpus.appendingPathComponent("cmyk.jpg")).channels, 3)
        XCTAssertEqual(try ImageIO.read(corpus.appendingPathComponent("onebit.bmp")).width, 13)
        let grey16 = try ImageIO.readScan(corpus.appendingPathComponent("grey16.dcm"))
        XCTAssertEqual([grey16.frames.count, grey16.frames[0].width, grey16.frames[0].height], [2, 24, 16])
    }
}
