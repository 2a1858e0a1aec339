import SonoImaging
import XCTest

final class MorphologyTests: XCTestCase {
    /// Parses rows like "..##." into a mask.
    private func mask(_ rows: [String]) -> Mask {
        Mask(width: rows[0].count, height: rows.count, pixels: rows.joined().map { $0 == "#" ? 1 : 0 })
    }

    func testLargestComponentAndConnectivity() {
        let m = mask(["##...",
                      "##..#",
                      "..#..",
                      "....."])
        XCTAssertEqual(ConnectedComponents(m, connectivity: .four).count, 3)
        XCTAssertEqual(ConnectedComponents(m, connectivity: .eight).count, 2)
        XCTAssertEqual(m.largestComponent(connectivity: .four), mask(["##...", "##...", ".....", "....."]))
        XCTAssertEqual(m.largestComponent(connectivity: .eight).area, 5)
        XCTAssertEqual(Mask(width: 3, height: 3).largestComponent(), Mask(width: 3, height: 3))
        XCTAssertEqual(m.removingComponents(smallerThan: 2, connectivity: .four).area, 4)
    }

    func testHoleFilling() {
        let ring = mask([".....",
                         ".###.",
                         ".#.#.",
                         ".###.",
                         "....."])
        XCTAssertEqual(ring.fillingHoles().area, 9)
        let open = mask(["#.#", "#.#", "###"])
        XCTAssertEqual(open.fillingHoles(), open, "a gap to the border is not a hole")
    }

    func testOutline() {
        var block = Mask(width: 6, height: 6)
        for y in 1..<5 { for x in 1..<5 { block[x, y] = 1 } }
        let edge = block.outline()
        XCTAssertEqual(edge.area, 12)
        XCTAssertEqual(edge[2, 2], 0)
        XCTAssertEqual(block.outline(thickness: 2).area, 16)
    }

    func testOverlayDrawsOutlineInColour() throws {
        var block = Mask(width: 6, height: 6)
        for y in 1..<5 { for x in 1..<5 { block[x, y] = 1 } }
        let grey = GrayImage(width: 6, height: 6, value: 0.5)
        let overlay = try Overlay.render(grey, mask: block, colour: .red, thickness: 1)
        XCTAssertEqual(overlay.channels, 3)
        XCTAssertEqual((0..<3).map { overlay.byte(x: 1, y: 1, channel: $0) }, [255, 0, 0])
        XCTAssertEqual((0..<3).map { overlay.byte(x: 2, y: 2, channel: $0) }, [128, 128, 128])
        XCTAssertThrowsError(try Overlay.render(grey, mask: Mask(width: 2, height: 2)))
    }

    func testGaussianBlurPreservesMeanAndSmooths() {
        var impulse = GrayImage(width: 9, height: 9)
        impulse[4, 4] = 1
        let blurred = impulse.gaussianBlurred(sigma: 1)
        XCTAssertEqual(blurred.pixels.reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertLessThan(blurred[4, 4], 0.2)
        XCTAssertEqual(blurred[3, 4], blurred[5, 4], accuracy: 1e-6)
    }

    func testWarpMovesImageAndMaskTogether() {
        var image = GrayImage(width: 5, height: 5)
        var m = Mask(width: 5, height: 5)
        image[1, 2] = 1; m[1, 2] = 1
        // Output (x, y) samples source (x − 2, y): a shift right by 2.
        let shift = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: -2, ty: 0)
        XCTAssertEqual(Warp.apply(image, outputToSource: shift)[3, 2], 1)
        XCTAssertEqual(Warp.apply(m, outputToSource: shift)[3, 2], 1)
        let rotation = AffineMap(a: 0, b: -1, c: 1, d: 0, tx: 4, ty: 0)
        XCTAssertEqual(rotation.concatenating(rotation.inverted()!), .identity)
    }
}

final class MaskReadingTests: XCTestCase {
    func testColouredMasksCountWhateverTheirColour() {
        // Red, green, black, white pixels (BUS-UCLM colours lesions by class).
        let rgb = Image(width: 4, height: 1, channels: 3, pixels: .uint8([255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255]))
        let reading = MaskReading(rgb)
        XCTAssertEqual(reading.mask.pixels, [1, 1, 0, 1])
        XCTAssertTrue(reading.isBinary)
        let soft = MaskReading(Image(width: 3, height: 1, channels: 1, pixels: .uint8([0, 100, 255])))
        XCTAssertFalse(soft.isBinary)
        XCTAssertEqual(soft.distinctLevels, 3)
        XCTAssertEqual(soft.mask.pixels, [0, 0, 1])
    }

    /// Label maps (0/1, or class numbers up to 15) read as masks: any non-zero label is lesion.
    func testLabelMapsReadAsMasks() {
        let binary = MaskReading(Image(width: 4, height: 1, channels: 1, pixels: .uint8([0, 1, 1, 0])))
        XCTAssertEqual(binary.mask.pixels, [0, 1, 1, 0])
        XCTAssertTrue(binary.isBinary)
        XCTAssertEqual(MaskReading(Image(width: 3, height: 1, channels: 1, pixels: .uint8([0, 2, 1]))).mask.pixels, [0, 1, 1])
        XCTAssertEqual(MaskReading(Image(width: 2, height: 1, channels: 1, pixels: .float([0, 1.0 / 65535]))).mask.pixels, [0, 1],
                       "16-bit 0/1")
        XCTAssertEqual(MaskReading(Image(width: 3, height: 1, channels: 1, pixels: .uint8([0, 16, 200]))).mask.pixels, [0, 0, 1],
                       "a picture of a mask still cuts at half scale")
        XCTAssertTrue(MaskReading(Image(width: 2, height: 1, channels: 1, pixels: .uint8([0, 0]))).mask.isEmpty)
    }
}
