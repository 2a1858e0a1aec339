import XCTest
@testable import SonoPipeline

final class MetricsThroughputTests: XCTestCase {
    /// The brief: hundreds of 256 × 256 masks in a second or two.
    func testTwoHundredImagesOf256() throws {
        let side = 256
        var rng = MetricsRNG(seed: 1)
        var inputs = [(truth: [UInt8], probabilities: [Float])]()
        for _ in 0..<200 {
            let cx = 60 + Double(rng.nextIndex(below: 136)), cy = 60 + Double(rng.nextIndex(below: 136))
            let r = 10 + Double(rng.nextIndex(below: 40))
            var truth = [UInt8](repeating: 0, count: side * side)
            var probabilities = [Float](repeating: 0, count: side * side)
            for p in 0..<(side * side) {
                let dx = Double(p % side) - cx, dy = Double(p / side) - cy
                let d = (dx * dx + dy * dy).squareRoot()
                truth[p] = d <= r ? 1 : 0
                probabilities[p] = Float(1 / (1 + exp((d - r - 2) / 3)))
            }
            inputs.append((truth, probabilities))
        }
        let start = Date()
        var rows = [SegmentationReport.Row]()
        for (i, input) in inputs.enumerated() {
            rows.append(.init(id: "\(i)", metrics: try SegmentationMetrics(
                probabilities: input.probabilities, truth: input.truth, width: side, height: side)))
        }
        let perImage = Date().timeIntervalSince(start)
        let report = SegmentationReport(rows: rows)
        let total = Date().timeIntervalSince(start)
        print("200 images of 256 × 256: metrics \(perImage) s, with report \(total) s")
        // About 0.3 s on a 2-core machine; anything quadratic in pixels would take minutes.
        XCTAssertLessThan(total, 5)
        XCTAssertEqual(report.lesion.images, 200)
    }
}
