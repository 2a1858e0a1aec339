import SonoImaging
import XCTest

final class ResizeAndLetterboxTests: XCTestCase {
    func testAreaDownscaleAveragesBlocks() {
        let image = GrayImage(width: 4, height: 2, pixels: [0, 1, 0.5, 0.5, 1, 0, 0.25, 0.75])
        let small = image.resized(width: 2, height: 1, method: .area)
        XCTAssertEqual(small.pixels[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(small.pixels[1], 0.5, accuracy: 1e-6)
        // Non-integer factor: 3 → 2 px, each output covers 1.5 source pixels.
        let row = GrayImage(width: 3, height: 1, pixels: [0, 0.3, 0.9]).resized(width: 2, height: 1, method: .area)
        XCTAssertEqual(row.pixels[0], (0 + 0.15) / 1.5, accuracy: 1e-6)
        XCTAssertEqual(row.pixels[1], (0.15 + 0.9) / 1.5, accuracy: 1e-6)
    }

    func testBilinearUpscaleOfConstantAndRamp() {
        let flat = GrayImage(width: 3, height: 3, value: 0.4).resized(width: 7, height: 5)
        XCTAssertTrue(flat.pixels.allSatisfy { abs($0 - 0.4) < 1e-6 })
        let ramp = GrayImage(width: 2, height: 1, pixels: [0, 1]).resized(width: 4, height: 1)
        // Half-pixel centres: sources at -0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
        XCTAssertEqual(ramp.pixels, [0, 0.25, 0.75, 1])
    }

    func testMaskResizeStaysBinary() {
        var mask = Mask(width: 8, height: 8)
        for y in 2..<6 { for x in 2..<6 { mask[x, y] = 1 } }
        for method in [MaskResampling.nearest, .areaThreshold] {
            let small = mask.resized(width: 4, height: 4, method: method)
            XCTAssertTrue(small.pixels.allSatisfy { $0 <= 1 })
            XCTAssertEqual(small.area, 4, "\(method)")
        }
    }

    func testLetterboxAndInverse() throws {
        var mask = Mask(width: 40, height: 20)
        for y in 5..<15 { for x in 10..<30 { mask[x, y] = 1 } }
        let geometry = LetterboxGeometry(sourceWidth: 40, sourceHeight: 20, targetWidth: 16, targetHeight: 16)
        XCTAssertEqual([geometry.contentWidth, geometry.contentHeight, geometry.offsetX, geometry.offsetY], [16, 8, 0, 4])
        let boxed = Letterbox.apply(mask, geometry)
        XCTAssertEqual(boxed.width, 16)
        XCTAssertEqual((0..<16).map { boxed[$0, 0] }, [UInt8](repeating: 0, count: 16), "padding is background")
        XCTAssertEqual(boxed.area, 8 * 4)
        let back = try Letterbox.invert(boxed, geometry)
        XCTAssertEqual([back.width, back.height], [40, 20])
        XCTAssertEqual(back, mask)
        let image = Letterbox.apply(GrayImage(width: 40, height: 20, value: 1), geometry)
        XCTAssertEqual(image[8, 3], 0)
        XCTAssertEqual(image[8, 4], 1, accuracy: 1e-6)
        XCTAssertThrowsError(try Letterbox.invert(Mask(width: 3, height: 3), geometry))
    }

    func testNormalisation() {
        var values: [Float] = [0, 0.25, 0.5, 0.75, 1]
        IntensityNormalization(method: .zScore).apply(to: &values)
        let mean = values.reduce(0, +) / 5
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
        XCTAssertEqual(mean, 0, accuracy: 1e-6)
        XCTAssertEqual(variance, 1, accuracy: 1e-5)
        var minMax: [Float] = [0.2, 0.4, 0.6]
        IntensityNormalization(method: .minMax).apply(to: &minMax)
        XCTAssertEqual(minMax[0], 0, accuracy: 1e-6); XCTAssertEqual(minMax[1], 0.5, accuracy: 1e-6)
        var outlier: [Float] = (0..<100).map { Float($0) / 100 } + [50]
        IntensityNormalization(method: .percentile, lowPercentile: 1, highPercentile: 99).apply(to: &outlier)
        XCTAssertEqual(outlier.last!, 1, "the outlier is clipped")
        XCTAssertGreaterThan(outlier[98], 0.9)
        XCTAssertEqual(Percentiles.values(of: [1, 2, 3, 4], at: [50])[0], 2.5)
        var flat: [Float] = [0.3, 0.3]
        IntensityNormalization(method: .zScore).apply(to: &flat)
        XCTAssertEqual(flat, [0, 0], "a flat image does not blow up")
    }
}
