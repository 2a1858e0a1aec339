import SonoBase
import XCTest
import SonoTestSupport
@testable import SonoTensor
import SonoKernels

final class DropoutEmbeddingTests: XCTestCase {
    var rng = SplitMix64(seed: 5)

    func testDropoutScalesSurvivorsAndIsSeeded() {
        let x = Tensor.ones([100_000])
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42)
        let a = noGrad { x.dropout(0.3, rng: &g1) }.scalars, b = noGrad { x.dropout(0.3, rng: &g2) }.scalars
        XCTAssertEqual(a, b, "same seed, same mask")
        let zeros = a.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(a.count), 0.3, accuracy: 0.01)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.7) < 1e-6 })
        XCTAssertEqual(a.reduce(0, +) / Float(a.count), 1, accuracy: 0.02, "inverted scaling keeps the mean")
        var g3 = RandomGenerator(seed: 42)
        XCTAssertNotEqual(noGrad { x.dropout(0.3, rng: &g3) }.scalars, noGrad { x.dropout(0.3, rng: &g3) }.scalars)
        XCTAssertTrue(x.dropout(0, rng: &g3) === x, "p == 0 is the identity")
    }

    func testDropoutGradientsBothLayouts() {
        for layout in [Layout.plain, .blocked(8), .blocked(16)] {
            let x = rng.tensor([2, 16, 3, 3]).contiguous(layout)
            checkGradients([x], samples: 16) { args in
                var g = RandomGenerator(seed: 9)   // same mask on every evaluation
                return args[0].dropout(0.4, rng: &g)
            }
        }
    }

    func testEmbeddingLookupAndGradient() {
        let table = Tensor((0..<12).map(Float.init), shape: [4, 3])
        XCTAssertEqual(Tensor.embedding(table: table, indices: [2, 0, 2]).scalars, [6, 7, 8, 0, 1, 2, 6, 7, 8])
        checkGradients([rng.tensor([5, 20])]) { Tensor.embedding(table: $0[0], indices: [3, 1, 3, 0]) * 2 }
        // unused rows get exactly zero, repeated rows accumulate
        let t = Tensor.zeros([4, 3], requiresGrad: true)
        Tensor.embedding(table: t, indices: [1, 1, 3]).sum().backward()
        XCTAssertEqual(t.grad!.scalars, [0, 0, 0, 2, 2, 2, 0, 0, 0, 1, 1, 1])
    }

    func testFusedLossPrimitiveGradients() {
        for layout in [Layout.plain, .blocked(8), .blocked(16)] {
            let x = rng.tensor([2, 16, 3, 3], lo: -3, hi: 3).contiguous(layout)
            let y = Tensor(rng.tensor([2, 16, 3, 3]).scalars.map { $0 > 0 ? 1 : 0 }, shape: [2, 16, 3, 3])
            checkGradients([x], samples: 16) { Tensor.sigmoidOverlapSums(logits: $0[0], target: y) }
            checkGradients([x], samples: 16) { sigmoidFocalLoss($0[0], y, alpha: 0.25, gamma: 2) * 100 }
        }
        let x = rng.tensor([3, 1, 4, 5], lo: -3, hi: 3)
        let soft = rng.tensor([3, 1, 4, 5], lo: 0, hi: 1)
        for (alpha, gamma) in [(Float(-1), Float(0)), (0.25, 1), (0.75, 1.5), (0.5, 3)] {
            checkGradients([x]) { sigmoidFocalLoss($0[0], soft, alpha: alpha, gamma: gamma) * 100 }
        }
        // γ = 0, no α: plain BCE
        let bce = binaryCrossEntropyWithLogits(x, soft).item, focal = sigmoidFocalLoss(x, soft, alpha: -1, gamma: 0).item
        XCTAssertEqual(bce, focal, accuracy: 1e-6)
    }
}
