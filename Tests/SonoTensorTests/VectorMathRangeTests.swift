import Foundation
import XCTest
@testable import SonoTensor
import CVectorKernels
import SonoKernels

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

/// The Gabor activation runs in C, compiled once per vector width; the process picks one at start-up. Both must
/// give WIRE's wavelet and its derivative on every element, the zero-padded tail included.
final class VectorKernelVariantTests: XCTestCase {
    func testEveryCompiledGaborVariantMatchesFoundation() throws {
        let (w0, s0): (Float, Float) = (30, 10)
        let xs = (0..<1_037).map { Float($0) / 1_037 * 0.8 - 0.4 }   // 1,037 = 64·16 + 13: a ragged tail
        let variants = [SONO_VECTOR_DEFAULT, SONO_VECTOR_AVX512].filter { sono_vector_isa_supported($0) != 0 }
        XCTAssertFalse(variants.isEmpty)
        for isa in variants {
            var y = [Float](repeating: .nan, count: xs.count), dy = y
            xs.withUnsafeBufferPointer { x in
                VectorKernels.gabor(xs.count, x.baseAddress!, &y, &dy, omega: w0, scale: s0, isa: isa)
            }
            for (i, x) in xs.enumerated() {
                let (dx, e) = (Double(x), Foundation.exp(-Double(s0 * x) * Double(s0 * x)))
                let want = Foundation.cos(Double(w0) * dx) * e
                let slope = -e * (Double(w0) * Foundation.sin(Double(w0) * dx) + 2 * Double(s0 * s0) * dx * Foundation.cos(Double(w0) * dx))
                XCTAssertEqual(Double(y[i]), want, accuracy: 2e-6, "variant \(isa.rawValue): y(\(x))")
                XCTAssertEqual(Double(dy[i]), slope, accuracy: 2e-4 * Swift.max(1, Swift.abs(slope)), "variant \(isa.rawValue): dy(\(x))")
            }
        }
    }
}
