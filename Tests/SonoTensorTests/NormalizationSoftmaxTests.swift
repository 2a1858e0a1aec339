import SonoBase
import XCTest
import SonoTestSupport
@testable import SonoTensor
import SonoKernels

/// Group, instance and layer norm; softmax and log-softmax: gradients in both layouts and forward invariants.
final class NormalizationSoftmaxTests: XCTestCase {
    var rng = SplitMix64(seed: 11)

    func testGroupAndInstanceNormGradientsBothLayouts() {
        for layout in [Layout.plain, .blocked(8), .blocked(16)] {
            let x = rng.tensor([2, 16, 3, 4], lo: -2, hi: 2).contiguous(layout)
            let scale = rng.tensor([16], lo: 0.5, hi: 1.5), shift = rng.tensor([16])
            checkGradients([x, scale, shift], samples: 16) { $0[0].groupNorm(groups: 4, scale: $0[1], shift: $0[2]) }
            checkGradients([x, scale, shift], samples: 16) { $0[0].instanceNorm(scale: $0[1], shift: $0[2]) }
            checkGradients([x], samples: 16) { $0[0].groupNorm(groups: 1) }
            // the output keeps the input's layout, so blocked chains stay blocked
            XCTAssertEqual(noGrad { x.groupNorm(groups: 4) }.layout, layout)
        }
        checkGradients([rng.tensor([3, 6, 5]), rng.tensor([6]), rng.tensor([6])], samples: 16) {
            $0[0].groupNorm(groups: 3, scale: $0[1], shift: $0[2])
        }
    }

    func testGroupNormNormalisesEachGroup() {
        let x = rng.tensor([2, 32, 4, 4], lo: 3, hi: 7).contiguous(.blocked(16))
        let y = noGrad { x.groupNorm(groups: 8) }.scalars
        let per = 4 * 16   // 4 channels × 16 positions
        for g in 0..<(2 * 8) {
            let v = y[(g * per)..<((g + 1) * per)].map(Double.init)
            let mean = v.reduce(0, +) / Double(per)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(per)
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    func testLayerNormGradients() {
        checkGradients([rng.tensor([5, 8], lo: -2, hi: 2), rng.tensor([8], lo: 0.5, hi: 1.5), rng.tensor([8])]) {
            $0[0].layerNorm(scale: $0[1], shift: $0[2])
        }
        checkGradients([rng.tensor([2, 3, 4, 5]), rng.tensor([4, 5], lo: 0.5, hi: 1.5), rng.tensor([4, 5])], samples: 16) {
            $0[0].layerNorm(dims: 2, scale: $0[1], shift: $0[2])
        }
        // rows longer than one SIMD vector, with a tail
        checkGradients([rng.tensor([3, 37]), rng.tensor([37], lo: 0.5, hi: 1.5)]) { $0[0].layerNorm(scale: $0[1]) }
        let xb = rng.tensor([1, 16, 3, 3]).contiguous(.blocked(16))
        checkGradients([xb], samples: 16) { $0[0].layerNorm(dims: 3) }
    }

    func testSoftmaxGradientsAndInvariants() {
        let x = rng.tensor([2, 3, 4, 5], lo: -3, hi: 3)
        checkGradients([x]) { $0[0].softmax(axis: 1) }
        checkGradients([x]) { $0[0].logSoftmax(axis: 1) }
        checkGradients([x]) { $0[0].softmax(axis: -1) }
        checkGradients([x]) { $0[0].logSoftmax(axis: 0) }
        let rows = rng.tensor([37, 3], lo: -3, hi: 3)   // more than 16 rows, gathered path with a tail
        checkGradients([rows]) { $0[0].softmax(axis: 1) }
        checkGradients([rows]) { $0[0].logSoftmax(axis: 1) }
        for layout in [Layout.plain, .blocked(8), .blocked(16)] {
            let xb = rng.tensor([2, 16, 3, 3], lo: -3, hi: 3).contiguous(layout)
            checkGradients([xb], samples: 16) { $0[0].softmax(axis: 1) }
            checkGradients([xb], samples: 16) { $0[0].logSoftmax(axis: 1) }
        }
        // rows sum to one; huge logits do not overflow; log-softmax = log(softmax)
        let big = Tensor([1000, 1001, 1002, -1000, 0, 1000], shape: [2, 3])
        let s = noGrad { big.softmax(axis: 1) }.scalars, ls = noGrad { big.logSoftmax(axis: 1) }.scalars
        XCTAssertFalse(s.contains { !$0.isFinite } || ls.contains { !$0.isFinite })
        XCTAssertEqual(s[0] + s[1] + s[2], 1, accuracy: 1e-6)
        XCTAssertEqual(s[5], 1, accuracy: 1e-6)
        XCTAssertEqual(ls[0], -2.407606, accuracy: 1e-4)
        XCTAssertEqual(ls[3], -2000, accuracy: 1e-2)
    }
}
