import SonoMetrics
import SonoImplicit
import SonoBase
import XCTest
import SonoTestSupport
import SonoModels
import SonoPipeline
import SonoKernels
import SonoNN
import SonoTensor

final class ImplicitNetworkTests: XCTestCase {
    override class func setUp() { Parallel.threads = 1 }

    func testGaborActivationGradient() {
        var rng = SplitMix64(seed: 1)
        let x = rng.tensor([6, 5], lo: -0.4, hi: 0.4)
        checkGradients([x], h: 1e-3) { $0[0].gabor(omega: 10, scale: 3) }
    }

    /// The network's gradient with respect to the conditioning (split first-layer product, per-image broadcast,
    /// latent residual start), for each activation.
    func testNetworkGradientWithRespectToLatents() {
        for activation in ImplicitActivation.allCases {
            var c = ImplicitNetworkConfig()
            (c.latentDims, c.width, c.depth, c.activation, c.fourierFeatures) = (8, 8, 3, activation, 4)
            if activation == .sine { c.omega = 3 }
            var rng = RandomGenerator(seed: 3)
            let net = ImplicitNetwork(c, rng: &rng)
            var t = SplitMix64(seed: 2)
            let coords = t.tensor([2 * 5, 2]), z = t.tensor([2, 8], lo: -0.2, hi: 0.2)
            checkGradients([z], h: 1e-3, tolerance: 3e-2) { a in
                let (i, m) = net(coords, conditioning: net.conditioning(latents: a[0]))
                return Tensor.concat([i, m], axis: 1)
            }
        }
    }

    /// The latent table's sparse row gradients match finite differences, and rows not in the batch get none.
    func testLatentTableRowGradients() {
        var c = ImplicitNetworkConfig()
        (c.latentDims, c.width, c.depth) = (4, 8, 3)
        var rng = RandomGenerator(seed: 5)
        let net = ImplicitNetwork(c, rng: &rng)
        let table = EmbeddingTable(rows: 5, dims: 4, std: 0.1, rng: &rng)
        var t = SplitMix64(seed: 9)
        let coords = t.tensor([3 * 4, 2])
        let images = [1, 3, 1]   // a repeated row accumulates
        let r = (0..<24).map { _ in t.uniform() * 2 - 1 }
        func loss() -> Tensor {
            let (i, m) = net(coords, conditioning: net.conditioning(latents: table(images)))
            return (Tensor.concat([i, m], axis: 1) * Tensor(r, shape: [12, 2])).sum()
        }
        net.setFrozen(true)
        table.zeroGrad()
        loss().backward()
        XCTAssertEqual(table.touchedRows, [1, 3])
        let analytic = table.denseGradient().scalars
        let w = table.weight.buffer.pointer, h: Float = 1e-3
        for j in 0..<table.weight.count {
            let saved = w[j]
            w[j] = saved + h; let up = noGrad { loss().item }
            w[j] = saved - h; let down = noGrad { loss().item }
            w[j] = saved
            let numeric = (up - down) / (2 * h)
            XCTAssertEqual(analytic[j], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "table element \(j)")
            if ![1, 3].contains(j / 4) { XCTAssertEqual(analytic[j], 0, "row \(j / 4) was not used") }
        }
    }

    func testConfigDefaultsAndPartialRecipe() throws {
        let json = #"{"data": [{"path": "x"}], "model": {"activation": "sine"}, "preprocess": {"resize": "stretch"}}"#
        let c = try DefaultsDecoder().decode(ImplicitTrainConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c.model.activation, .sine)
        XCTAssertEqual(c.model.effectiveOmega, 30)
        XCTAssertEqual(c.model.width, 128)
        XCTAssertEqual(c.preprocess.width, 128)
        XCTAssertEqual(c.preprocess.normalization.method, .minMax)
        XCTAssertEqual(c.preprocess.resize, .stretch)
        XCTAssertEqual(ClassLabels.index(of: "4a", in: ["2", "3", "4", "5"]), 2)
        XCTAssertEqual(ClassLabels.index(of: "Malignant", in: ["benign", "malignant"]), 1)
        XCTAssertNil(ClassLabels.index(of: "6", in: ["2", "3", "4", "5"]))
    }

    func testSirenInitBounds() {
        var c = ImplicitNetworkConfig()
        (c.activation, c.latentDims, c.width, c.depth) = (.sine, 14, 32, 3)
        var rng = RandomGenerator(seed: 1)
        let net = ImplicitNetwork(c, rng: &rng)
        XCTAssertLessThanOrEqual(net.first.weight.scalars.map(abs).max()!, 1 / 16)
        XCTAssertLessThanOrEqual(net.hidden[0].weight.scalars.map(abs).max()!, (6 / Float(32)).squareRoot() / 30)
    }
}
