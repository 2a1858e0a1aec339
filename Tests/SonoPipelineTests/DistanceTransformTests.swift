@testable import SonoMetrics
import SonoBase
import XCTest
@testable import SonoPipeline

final class DistanceTransformTests: XCTestCase {
    /// Brute force: min over features of the squared (scaled) distance.
    private func bruteForce(_ features: [Bool], _ width: Int, _ height: Int, _ sx: Double, _ sy: Double) -> [Double] {
        var result = [Double](repeating: .infinity, count: width * height)
        for p in 0..<(width * height) {
            for q in 0..<(width * height) where features[q] {
                let dx = Double(p % width - q % width) * sx, dy = Double(p / width - q / width) * sy
                result[p] = min(result[p], dx * dx + dy * dy)
            }
        }
        return result
    }

    func testMatchesBruteForceOnRandomGrids() {
        var rng = SplitMix64(seed: 42)
        for trial in 0..<40 {
            let width = 1 + rng.nextIndex(below: 17), height = 1 + rng.nextIndex(below: 13)
            let density = [0.02, 0.1, 0.5][trial % 3]
            let features = (0..<(width * height)).map { _ in Double(rng.next() >> 11) * 0x1.0p-53 < density }
            let spacing: PixelSpacing? = trial % 2 == 0 ? nil : PixelSpacing(x: 0.3, y: 1.7)
            let fast = EuclideanDistanceTransform.squaredDistances(features: features, width: width, height: height,
                                                                   spacing: spacing)
            let slow = bruteForce(features, width, height, spacing?.x ?? 1, spacing?.y ?? 1)
            for i in 0..<slow.count {
                if slow[i].isInfinite {
                    XCTAssertTrue(fast[i].isInfinite, "trial \(trial) pixel \(i)")
                } else {
                    XCTAssertEqual(fast[i], slow[i], accuracy: 1e-9, "trial \(trial) pixel \(i)")
                }
            }
        }
    }

    func testSingleFeatureGivesExactSquaredDistances() {
        var features = [Bool](repeating: false, count: 5 * 4)
        features[1 * 5 + 3] = true  // (3, 1)
        let d = EuclideanDistanceTransform.squaredDistances(features: features, width: 5, height: 4)
        XCTAssertEqual(d[0], 9 + 1)          // (0, 0)
        XCTAssertEqual(d[3 * 5 + 0], 9 + 4)  // (0, 3)
        XCTAssertEqual(d[1 * 5 + 3], 0)
    }

    func testNoFeaturesIsInfinite() {
        let d = EuclideanDistanceTransform.squaredDistances(features: [Bool](repeating: false, count: 6), width: 3,
                                                            height: 2)
        XCTAssertTrue(d.allSatisfy(\.isInfinite))
    }

    /// HD95/ASSD from the transform agree with a brute-force boundary-to-boundary computation.
    func testSurfaceDistancesMatchBruteForce() {
        var rng = SplitMix64(seed: 7)
        for trial in 0..<20 {
            let width = 12, height = 10
            func blob() -> [Bool] {
                let cx = Double(rng.nextIndex(below: width)), cy = Double(rng.nextIndex(below: height))
                let r = 1.5 + Double(rng.nextIndex(below: 4))
                return (0..<(width * height)).map {
                    let dx = Double($0 % width) - cx, dy = Double($0 / width) - cy
                    return dx * dx + dy * dy <= r * r
                }
            }
            let a = blob(), b = blob()
            let spacing = PixelSpacing(x: 0.8, y: 1.1)
            let fast = SurfaceDistances.between(prediction: a, truth: b, width: width, height: height,
                                                spacing: spacing)!
            let ba = MaskBoundary.boundary(of: a, width: width, height: height)
            let bb = MaskBoundary.boundary(of: b, width: width, height: height)
            func directed(_ from: [Bool], _ to: [Bool]) -> [Double] {
                bruteForce(to, width, height, spacing.x, spacing.y).enumerated().filter { from[$0.offset] }
                    .map { $0.element.squareRoot() }
            }
            let pooled = (directed(ba, bb) + directed(bb, ba)).sorted()
            let position = 0.95 * Double(pooled.count - 1)
            let lower = Int(position)
            let hd95 = pooled[lower] + (pooled[min(lower + 1, pooled.count - 1)] - pooled[lower]) * (position - Double(lower))
            XCTAssertEqual(fast.hd95, hd95, accuracy: 1e-9, "trial \(trial)")
            XCTAssertEqual(fast.assd, pooled.reduce(0, +) / Double(pooled.count), accuracy: 1e-9, "trial \(trial)")
        }
    }
}
