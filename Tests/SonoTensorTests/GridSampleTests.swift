import SonoBase
import XCTest
import SonoTestSupport
import SonoTensor

final class GridSampleTests: XCTestCase {
    /// A 2×3 grid with two channels, read at its pixel centres, between them and beyond the border.
    func testBilinearSamplingMatchesPixelCentreConvention() {
        // channel 0: 0 1 2 / 3 4 5, channel 1 = 10 × channel 0
        let values: [Float] = [0, 1, 2, 3, 4, 5, 0, 10, 20, 30, 40, 50]
        let grid = Tensor(values, shape: [1, 2, 2, 3])
        // centres of (x=0,y=0) and (x=2,y=1); halfway between (0,0) and (1,0); beyond the left edge (border)
        let coords = Tensor([-2.0 / 3, -0.5, 2.0 / 3, 0.5, -1.0 / 3, -0.5, -1.5, -0.5], shape: [4, 2])
        let out = grid.sampledBilinear(at: coords).scalars
        let expected: [Float] = [0, 0, 5, 50, 0.5, 5, 0, 0]
        for (a, e) in zip(out, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    /// Each image reads its own grid: two images, two points each.
    func testImagesReadTheirOwnGrids() {
        let grid = Tensor([1, 1, 1, 1, 7, 7, 7, 7], shape: [2, 1, 2, 2])
        let coords = Tensor([0, 0, 0.3, -0.2, 0, 0, -0.9, 0.9], shape: [4, 2])
        XCTAssertEqual(grid.sampledBilinear(at: coords).scalars, [1, 1, 7, 7])
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        let grid = Tensor((0..<(2 * 3 * 4 * 5)).map { _ in rng.uniform() * 2 - 1 }, shape: [2, 3, 4, 5])
        let coords = Tensor((0..<(2 * 7 * 2)).map { _ in rng.uniform() * 2.4 - 1.2 }, shape: [14, 2])
        checkGradients([grid], samples: 40) { $0[0].sampledBilinear(at: coords) * 3 }
    }
}
