import XCTest
import SonoTestSupport
@testable import SonoNN
import SonoTensor

/// Every loss: finite-difference gradients (in both layouts where logits can be blocked) and reference values.
final class LossTests: XCTestCase {
    var rng = SplitMix64(seed: 21)

    func mask(_ shape: [Int], emptyImages: Set<Int> = []) -> Tensor {
        let per = shape.dropFirst().reduce(1, *)
        let v = (0..<shape.reduce(1, *)).map { i -> Float in emptyImages.contains(i / per) ? 0 : (rng.uniform() > 0.6 ? 1 : 0) }
        return Tensor(v, shape: shape)
    }

    func testBinaryLossGradients() {
        let x = rng.tensor([3, 1, 5, 6], lo: -3, hi: 3), y = mask([3, 1, 5, 6], emptyImages: [1])
        let w = rng.tensor([3, 1, 5, 6], lo: 0.5, hi: 2)
        checkGradients([x]) { bceWithLogitsLoss($0[0], y, weight: w, positiveWeight: 3) * 10 }
        checkGradients([x]) { softDiceLoss($0[0], y, smooth: 1) * 10 }
        checkGradients([x]) { softDiceLoss($0[0], y, smooth: 1, emptyMasks: .exclude) * 10 }
        checkGradients([x]) { tverskyLoss($0[0], y, alpha: 0.3, beta: 0.7) * 10 }
        checkGradients([x]) { bceDiceLoss($0[0], y, bceWeight: 0.5, diceWeight: 2, positiveWeight: 2) * 10 }
        checkGradients([x]) { focalLoss($0[0], y, alpha: 0.25, gamma: 2) * 10 }
        checkGradients([x]) { binaryPixelwiseKLDivergence($0[0], y) * 10 }
        for kind in SegmentationLoss.allCases {
            checkGradients([x]) { SegmentationLossConfig(kind: kind)(logits: $0[0], masks: y) * 10 }
        }
    }

    func testBlockedLogitsGetGradients() {
        // 16-channel logits (e.g. deep supervision heads) may arrive blocked; every loss must still reach them.
        let x = rng.tensor([2, 16, 3, 3], lo: -3, hi: 3).storage(in: .blocked(16)), y = mask([2, 16, 3, 3])
        checkGradients([x], samples: 12) { bceWithLogitsLoss($0[0], y) * 10 }
        checkGradients([x], samples: 12) { softDiceLoss($0[0], y) * 10 }
        checkGradients([x], samples: 12) { tverskyLoss($0[0], y) * 10 }
        checkGradients([x], samples: 12) { focalLoss($0[0], y) * 10 }
        checkGradients([x], samples: 12) { mseLoss($0[0], y) * 10 }
        checkGradients([x], samples: 12) { l1Loss($0[0], y.storage(in: .blocked(16))) * 10 }
        let t = noGrad { rng.tensor([2, 16, 3, 3], lo: -2, hi: 2).softmax(axis: 1) }
        checkGradients([x], samples: 12) { pixelwiseKLDivergence($0[0], t) * 10 }
        checkGradients([x], samples: 12) { crossEntropyLoss($0[0], targets: (0..<18).map { $0 % 16 }) * 10 }
    }

    func testMultiClassAndRegressionGradients() {
        let logits = rng.tensor([6, 4], lo: -2, hi: 2)
        checkGradients([logits]) { crossEntropyLoss($0[0], targets: [0, 3, 1, 1, 2, 3], classWeights: [1, 2, 0.5, 3]) * 10 }
        checkGradients([logits]) { crossEntropyLoss($0[0], targets: [0, 3, 1, -100, 2, 3], ignoreIndex: -100) * 10 }
        let pix = rng.tensor([2, 3, 4, 4], lo: -2, hi: 2)
        checkGradients([pix]) { crossEntropyLoss($0[0], targets: (0..<32).map { $0 % 3 }, classWeights: [1, 2, 3]) * 10 }
        let target = noGrad { rng.tensor([2, 3, 4, 4], lo: -2, hi: 2).softmax(axis: 1) }
        checkGradients([pix]) { pixelwiseKLDivergence($0[0], target, epsilon: 1e-6) * 10 }
        let a = rng.tensor([4, 5]), b = rng.tensor([4, 5])
        checkGradients([a, b]) { mseLoss($0[0], $0[1]) * 10 }
        // |a − c| = 0.5 everywhere, far from the kink at 0
        let c = Tensor(a.scalars.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 0.5 : -0.5) }, shape: [4, 5])
        checkGradients([a, c]) { l1Loss($0[0], $0[1]) * 10 }
    }

    func testGANLossesAndGradients() {
        let real = rng.tensor([4, 1], lo: -3, hi: 3), fake = rng.tensor([4, 1], lo: -3, hi: 3)
        checkGradients([fake]) { ganGeneratorLoss(fakeLogits: $0[0]) * 10 }
        checkGradients([real, fake]) { ganDiscriminatorLoss(realLogits: $0[0], fakeLogits: $0[1]) * 10 }
        // direct formulas in Double
        let r = real.scalars.map(Double.init), f = fake.scalars.map(Double.init)
        func logSigmoid(_ v: Double) -> Double { -Foundation.log(1 + Foundation.exp(-v)) }
        let g = -f.map(logSigmoid).reduce(0, +) / 4
        let d = -r.map(logSigmoid).reduce(0, +) / 4 - f.map { Foundation.log(1 - 1 / (1 + Foundation.exp(-$0))) }.reduce(0, +) / 4
        XCTAssertEqual(Double(ganGeneratorLoss(fakeLogits: fake).item), g, accuracy: 1e-5)
        XCTAssertEqual(Double(ganDiscriminatorLoss(realLogits: real, fakeLogits: fake).item), d, accuracy: 1e-5)
    }

    func testDiceValuesAndEmptyMaskPolicies() {
        // Very confident logits: p ≈ y, so Dice ≈ 0 on the lesion image; the empty image decides the policies.
        let y = Tensor([1, 1, 0, 0, 0, 0, 0, 0], shape: [2, 1, 2, 2])
        let x = Tensor(y.scalars.map { $0 > 0 ? 30 : -30 }, shape: [2, 1, 2, 2])
        XCTAssertEqual(softDiceLoss(x, y, smooth: 1).item, 0, accuracy: 1e-5)
        let half = Tensor.zeros([2, 1, 2, 2])   // p = 0.5 everywhere
        // image 0: (2·1 + 1) / (2 + 2 + 1) = 0.6; image 1: 1 / (2 + 1) = 1/3
        XCTAssertEqual(softDiceLoss(half, y, smooth: 1).item, 1 - (0.6 + 1.0 / 3) / 2, accuracy: 1e-6)
        XCTAssertEqual(softDiceLoss(half, y, smooth: 1, emptyMasks: .exclude).item, 0.4, accuracy: 1e-6)
        let empty = Tensor.zeros([2, 1, 2, 2])
        let allEmpty = softDiceLoss(Tensor.zeros([2, 1, 2, 2], requiresGrad: true), empty, emptyMasks: .exclude)
        XCTAssertEqual(allEmpty.item, 0)
        // Tversky with α = β = 0.5 and s = 0 equals Dice with s = 0
        XCTAssertEqual(tverskyLoss(half, y, alpha: 0.5, beta: 0.5, smooth: 0, emptyMasks: .exclude).item,
                       softDiceLoss(half, y, smooth: 0, emptyMasks: .exclude).item, accuracy: 1e-6)
    }

    func testSegmentationLossConfigCodable() throws {
        let json = #"{"kind": "tversky", "tverskyBeta": 0.9, "emptyMasks": "exclude"}"#
        let c = try DefaultsDecoder().decode(SegmentationLossConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c.kind, .tversky)
        XCTAssertEqual(c.tverskyBeta, 0.9)
        XCTAssertEqual(c.tverskyAlpha, 0.3, "missing keys keep defaults")
        XCTAssertEqual(c.emptyMasks, .exclude)
        let back = try JSONDecoder().decode(SegmentationLossConfig.self, from: JSONEncoder().encode(c))
        XCTAssertEqual(back, c)
        XCTAssertThrowsError(try JSONDecoder().decode(SegmentationLossConfig.self, from: Data(#"{"kind": "hinge"}"#.utf8)))
    }
}

import Foundation
import SonoBase
