import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

final class LayerTests: XCTestCase {
    func testNormalizationLayersAndDropoutModes() {
        var g = RandomGenerator(seed: 8)
        let x = Tensor.normal([2, 16, 4, 4], mean: 3, std: 2, rng: &g)
        let gn = GroupNorm(groups: 4, channels: 16)
        XCTAssertEqual(gn.namedParameters().map(\.0), ["weight", "bias"])
        let y = gn(x)
        y.sum().backward()
        XCTAssertEqual(gn.weight.grad?.shape, [16])
        XCTAssertEqual(noGrad { x.groupNorm(groups: 4) }.scalars, y.scalars)
        let ln = LayerNorm([4, 4])
        XCTAssertEqual(ln(x).shape, x.shape)
        let drop = Dropout(0.5, rng: &g)
        XCTAssertNotEqual(drop(x).scalars, x.scalars)
        drop.setTraining(false)
        XCTAssertTrue(drop(x) === x, "evaluation mode is the identity")
    }
}
