import Foundation
import SonoBase
import XCTest
import SonoImaging

/// Drawn marks (a caliper cross, a dotted line, a coloured box) are found; echoes (a bright blurred line along
/// the skin, speckle) are not.
final class AnnotationDetectorTests: XCTestCase {
    func testFindsCalipersAndColourButNotEchoes() {
        let (w, h) = (120, 90)
        var rng = SplitMix64(seed: 4)
        // speckle around 0.35, a bright echo line 5 px thick blurred over rows 20-28
        var grey = (0..<(w * h)).map { _ in 0.25 + 0.2 * rng.uniform() }
        for y in 20...28 {
            let v = 0.95 * exp(-Float((y - 24) * (y - 24)) / 6)
            for x in 5..<115 { grey[y * w + x] = max(grey[y * w + x], v) }
        }
        // a caliper cross centred at (60, 60), arms 6 px, 1 px wide, at 0.9
        for d in -6...6 { grey[60 * w + 60 + d] = 0.9; grey[(60 + d) * w + 60] = 0.9 }
        // a dotted line of 2x2 dots
        for x in stride(from: 20, to: 50, by: 5) { for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] { grey[(75 + dy) * w + x + dx] = 0.95 } }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) { let v = UInt8(grey[i] * 255); (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (v, v, v) }
        // a yellow box outline (Doppler box) 30x20 at (80, 40): large, but coloured
        for x in 80..<110 { for y in [40, 59] { (rgb[3 * (y * w + x)], rgb[3 * (y * w + x) + 2]) = (230, 40) } }
        for y in 40..<60 { for x in [80, 109] { (rgb[3 * (y * w + x)], rgb[3 * (y * w + x) + 2]) = (230, 40) } }
        let marks = AnnotationDetector().detect(Image(width: w, height: h, channels: 3, pixels: .uint8(rgb)))
        func hidden(_ x: Int, _ y: Int) -> Bool { marks.pixels[y * w + x] != 0 }
        XCTAssertTrue(hidden(60, 60) && hidden(54, 60) && hidden(60, 66), "the cross")
        XCTAssertTrue(hidden(30, 75) && hidden(45, 76), "the dots")
        XCTAssertTrue(hidden(95, 40) && hidden(80, 50), "the coloured box")
        XCTAssertFalse((5..<115).contains { hidden($0, 24) }, "the echo line along the skin is anatomy")
        // speckle far from any mark stays visible
        let far = (0..<(w * h)).filter { i in let x = i % w, y = i / w; return y > 30 && y < 50 && x < 70 }
        XCTAssertEqual(far.filter { marks.pixels[$0] != 0 }.count, 0)
    }

    func testGreyImageWithoutMarksHidesNothing() {
        var rng = SplitMix64(seed: 9)
        let pixels = (0..<(64 * 64)).map { _ in UInt8(60 + rng.next() % 60) }
        let marks = AnnotationDetector().detect(Image(width: 64, height: 64, channels: 1, pixels: .uint8(pixels)))
        XCTAssertEqual(marks.pixels.reduce(0) { $0 + Int($1) }, 0)
    }
}
