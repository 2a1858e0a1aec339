import SonoBase
import SonoTensor
import XCTest

/// Random tensors: drawn from the seed, or, for a network about to load its weights, zeros without drawing.
final class RandomTensorTests: XCTestCase {
    func testLoadedWeightsGeneratorGivesZerosAndLeavesScalarDrawsAlone() {
        var seeded = RandomGenerator(seed: 0), loading = RandomGenerator.forLoadedWeights
        let drawn = Tensor.normal([4, 8], std: 2, rng: &seeded)
        XCTAssertGreaterThan(drawn.scalars.map(abs).max()!, 0)
        XCTAssertEqual(Tensor.normal([4, 8], std: 2, rng: &loading, requiresGrad: true).scalars, [Float](repeating: 0, count: 32))
        XCTAssertEqual(Tensor.uniform([3], lo: 1, hi: 2, rng: &loading).scalars, [0, 0, 0])
        XCTAssertTrue(Tensor.normal([2], rng: &loading, requiresGrad: true).requiresGrad)
        var fresh = RandomGenerator(seed: 0)
        XCTAssertEqual(loading.next(), fresh.next(), "scalar draws are the seed-0 stream")
    }
}
