import Foundation
import XCTest
@testable import SonoTensor

/// vexp / vlog / vsincos round with the 1.5·2²³ trick and split the exponent with integer arithmetic; these
/// cover the edges of that: the √½ roll-over, tiny and huge magnitudes, exp near its clamps, wide sin/cos.
final class VectorMathRangeTests: XCTestCase {
    func testLogAcrossMagnitudesAndTheSqrtHalfBoundary() {
        var xs: [Float] = []
        for e in -30...30 { for f in [1, 1.2, 2.5, 7.9] as [Float] { xs.append(f * Foundation.pow(10, Float(e))) } }
        let s = Float(0.5).squareRoot()
        xs += [s, s.nextDown, s.nextUp, 2 * s, (2 * s).nextDown, 1, Float(1).nextDown, Float(1).nextUp, .leastNormalMagnitude]
        let out = noGrad { Tensor(xs, shape: [xs.count]).log() }.scalars
        for (x, y) in zip(xs, out) {
            XCTAssertEqual(Double(y), Foundation.log(Double(x)), accuracy: 2e-6 * Swift.max(1, Swift.abs(Foundation.log(Double(x)))), "log(\(x))")
        }
    }

    func testExpNearClampsAndSinCosWideRange() {
        let xs = stride(from: Float(-87), through: 88, by: 0.37).map { $0 }
        let e = noGrad { Tensor(xs, shape: [xs.count]).exp() }.scalars
        for (x, y) in zip(xs, e) { XCTAssertEqual(Double(y) / Foundation.exp(Double(x)), 1, accuracy: 1e-6, "exp(\(x))") }
        let ws = stride(from: Float(-2000), through: 2000, by: 0.913).map { $0 }
        let t = Tensor(ws, shape: [ws.count])
        let sv = noGrad { t.sin() }.scalars, cv = noGrad { t.cos() }.scalars
        for (i, x) in ws.enumerated() {
            XCTAssertEqual(Double(sv[i]), Foundation.sin(Double(x)), accuracy: 5e-5, "sin(\(x))")
            XCTAssertEqual(Double(cv[i]), Foundation.cos(Double(x)), accuracy: 5e-5, "cos(\(x))")
        }
    }
}
