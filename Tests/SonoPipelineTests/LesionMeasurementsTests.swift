@testable import SonoMetrics
import SonoBase
import XCTest
import SonoImaging
@testable import SonoPipeline

final class LesionMeasurementsTests: XCTestCase {
    private func ellipse(width: Int, height: Int, cx: Double, cy: Double, a: Double, b: Double) -> [UInt8] {
        (0..<(width * height)).map {
            let dx = (Double($0 % width) - cx) / a, dy = (Double($0 / width) - cy) / b
            return dx * dx + dy * dy <= 1 ? 1 : 0
        }
    }

    /// A plus sign: a 41-pixel bar across and a 21-pixel bar down through its middle.
    func testRadiologistsAxesDepthAndTallerThanWide() throws {
        var mask = [UInt8](repeating: 0, count: 60 * 50)
        for x in 0...40 { mask[20 * 60 + x] = 1 }
        for y in 10...30 { mask[y * 60 + 20] = 1 }
        let m = try LesionMeasurements(mask: mask, width: 60, height: 50, spacing: PixelSpacing(isotropic: 0.5))
        XCTAssertEqual(Set([m.longAxis![0], m.longAxis![2]]), [0, 40])
        XCTAssertEqual(m.longAxis![1], 20); XCTAssertEqual(m.longAxis![3], 20)
        XCTAssertEqual(m.shortAxisPixels, 20, accuracy: 1e-9)
        XCTAssertEqual(m.shortAxisMM!, 10, accuracy: 1e-9)
        let a = m.shortAxis!
        XCTAssertEqual(a[0], 20, accuracy: 1e-9); XCTAssertEqual(a[2], 20, accuracy: 1e-9)
        XCTAssertEqual(Set([a[1], a[3]]), [10, 30])
        XCTAssertEqual(m.depthPixels, 10); XCTAssertEqual(m.depthMM!, 5, accuracy: 1e-9)
        XCTAssertEqual(m.tallerThanWide!, 0.5, accuracy: 1e-9)
        // Turned a quarter: taller than wide.
        var turned = [UInt8](repeating: 0, count: 60 * 50)
        for y in 0...40 { turned[y * 60 + 20] = 1 }
        for x in 10...30 { turned[20 * 60 + x] = 1 }
        let t = try LesionMeasurements(mask: turned, width: 60, height: 50)
        XCTAssertEqual(t.tallerThanWide!, 2, accuracy: 1e-9)
        XCTAssertEqual(t.shortAxisPixels, 20, accuracy: 1e-9)
        XCTAssertNil(t.shortAxisMM)
        let empty = try LesionMeasurements(mask: [UInt8](repeating: 0, count: 16), width: 4, height: 4)
        XCTAssertNil(empty.longAxis); XCTAssertNil(empty.depthPixels); XCTAssertNil(empty.tallerThanWide)
    }

    func testRectangle() throws {
        let mask = Grid.rectangle(width: 12, height: 10, x0: 2, y0: 4, w: 5, h: 3)
        let m = try LesionMeasurements(mask: mask, width: 12, height: 10)
        XCTAssertEqual(m.areaPixels, 15)
        XCTAssertNil(m.areaMM2)
        XCTAssertEqual(m.boundingBox, LesionMeasurements.BoundingBox(x: 2, y: 4, width: 5, height: 3))
        XCTAssertEqual(m.maxDiameterPixels, 20.0.squareRoot(), "corner centres (2,4)–(6,6)")
        XCTAssertNil(m.maxDiameterMM)
        XCTAssertEqual(m.orientationDegrees!, 0, accuracy: 1e-9)
        XCTAssertEqual(m.componentCount, 1)

        let mm = try LesionMeasurements(mask: mask, width: 12, height: 10, spacing: PixelSpacing(x: 0.5, y: 0.25))
        XCTAssertEqual(mm.areaMM2!, 15 * 0.125, accuracy: 1e-12)
        XCTAssertEqual(mm.maxDiameterMM!, (2.0 * 2 + 0.5 * 0.5).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(mm.maxDiameterPixels, 20.0.squareRoot())

        let tall = try LesionMeasurements(mask: Grid.rectangle(width: 12, height: 10, x0: 5, y0: 1, w: 2, h: 6),
                                          width: 12, height: 10)
        XCTAssertEqual(tall.orientationDegrees!, 90, accuracy: 1e-9)
    }

    /// Radius-10 disc of pixel centres: 317 lattice points (Gauss's circle problem), diameter 20 between (5, 15)
    /// and (25, 15), and no preferred axis.
    func testDisc() throws {
        let disc = ellipse(width: 31, height: 31, cx: 15, cy: 15, a: 10, b: 10)
        let m = try LesionMeasurements(mask: disc, width: 31, height: 31, spacing: PixelSpacing(isotropic: 0.1))
        XCTAssertEqual(m.areaPixels, 317)
        XCTAssertEqual(m.areaMM2!, 3.17, accuracy: 1e-12)
        XCTAssertEqual(m.maxDiameterPixels, 20)
        XCTAssertEqual(m.maxDiameterMM!, 2, accuracy: 1e-12)
        XCTAssertEqual(m.boundingBox, LesionMeasurements.BoundingBox(x: 5, y: 5, width: 21, height: 21))
        XCTAssertNil(m.orientationDegrees)
        XCTAssertEqual(m.componentCount, 1)
        // Pixels twice as wide as tall make the same disc wider than tall on the body.
        let stretched = try LesionMeasurements(mask: disc, width: 31, height: 31, spacing: PixelSpacing(x: 2, y: 1))
        XCTAssertEqual(stretched.orientationDegrees!, 0, accuracy: 1e-9)
        XCTAssertEqual(stretched.maxDiameterMM!, 40, accuracy: 1e-12)
    }

    func testAxisAlignedEllipses() throws {
        let wide = try LesionMeasurements(mask: ellipse(width: 40, height: 30, cx: 20, cy: 15, a: 12, b: 5),
                                          width: 40, height: 30)
        XCTAssertEqual(wide.orientationDegrees!, 0, accuracy: 1e-9)
        XCTAssertEqual(wide.maxDiameterPixels, 24)
        let tall = try LesionMeasurements(mask: ellipse(width: 40, height: 30, cx: 20, cy: 15, a: 5, b: 12),
                                          width: 40, height: 30)
        XCTAssertEqual(tall.orientationDegrees!, 90, accuracy: 1e-9)
        XCTAssertEqual(tall.maxDiameterPixels, 24)
    }

    /// Rows run downward: (i, i) runs down-right on screen, i.e. −45° ≡ 135°; (i, n − 1 − i) runs up-right, 45°.
    func testDiagonalOrientationSign() throws {
        var down = [UInt8](repeating: 0, count: 64), up = [UInt8](repeating: 0, count: 64)
        for i in 0..<8 {
            down[i * 8 + i] = 1
            up[(7 - i) * 8 + i] = 1
        }
        let d = try LesionMeasurements(mask: down, width: 8, height: 8, connectivity: .eight)
        XCTAssertEqual(d.orientationDegrees!, 135, accuracy: 1e-9)
        XCTAssertEqual(d.maxDiameterPixels, 7 * 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(d.componentCount, 1)
        XCTAssertEqual(try LesionMeasurements(mask: down, width: 8, height: 8, connectivity: .four).componentCount, 8)
        XCTAssertEqual(try LesionMeasurements(mask: up, width: 8, height: 8).orientationDegrees!, 45, accuracy: 1e-9)
    }

    func testComponentsAndDiameterAcrossThem() throws {
        let mask = Grid.parse([
            "##......",
            "##......",
            "........",
            ".....#..",
            "......##",
        ])
        let m = try LesionMeasurements(mask: mask, width: 8, height: 5)
        XCTAssertEqual(m.componentCount, 2, "(5,3) touches (6,4) diagonally")
        XCTAssertEqual(try LesionMeasurements(mask: mask, width: 8, height: 5, connectivity: .four).componentCount, 3)
        XCTAssertEqual(m.areaPixels, 7)
        XCTAssertEqual(m.maxDiameterPixels, (49.0 + 16).squareRoot(), "(0,0)–(7,4)")
        XCTAssertEqual(m.boundingBox, LesionMeasurements.BoundingBox(x: 0, y: 0, width: 8, height: 5))
    }

    func testEmptyAndSinglePixel() throws {
        let empty = try LesionMeasurements(mask: [UInt8](repeating: 0, count: 12), width: 4, height: 3,
                                           spacing: PixelSpacing(isotropic: 1))
        XCTAssertEqual(empty.areaPixels, 0)
        XCTAssertEqual(empty.areaMM2, 0)
        XCTAssertNil(empty.boundingBox)
        XCTAssertEqual(empty.maxDiameterPixels, 0)
        XCTAssertNil(empty.orientationDegrees)
        XCTAssertEqual(empty.componentCount, 0)

        var one = [UInt8](repeating: 0, count: 12)
        one[6] = 255
        let single = LesionMeasurements(mask: Mask(width: 4, height: 3, pixels: one.map { $0 == 0 ? 0 : 1 }))
        XCTAssertEqual(single.areaPixels, 1)
        XCTAssertEqual(single.maxDiameterPixels, 0)
        XCTAssertEqual(single.boundingBox, LesionMeasurements.BoundingBox(x: 2, y: 1, width: 1, height: 1))
        XCTAssertEqual(try LesionMeasurements(mask: one, width: 4, height: 3), single, "any nonzero byte is lesion")
        XCTAssertThrowsError(try LesionMeasurements(mask: one, width: 5, height: 3))
    }

    /// Diameter via hull equals the brute-force maximum over all lesion pixel pairs on random blobs.
    func testDiameterMatchesBruteForce() throws {
        var rng = SplitMix64(seed: 17)
        for _ in 0..<15 {
            let width = 20, height = 16
            let mask = (0..<(width * height)).map { _ in UInt8(rng.nextIndex(below: 9) == 0 ? 1 : 0) }
            let points = mask.indices.filter { mask[$0] != 0 }.map { ($0 % width, $0 / width) }
            var best = 0
            for p in points { for q in points { best = max(best, (p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1)) } }
            let m = try LesionMeasurements(mask: mask, width: width, height: height)
            XCTAssertEqual(m.maxDiameterPixels, Double(best).squareRoot())
        }
    }
}
