import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

/// Optimizer updates against PyTorch (fixture from scripts/fixtures/make_optim_fixtures.py).
final class OptimizerTests: XCTestCase {
    func makeOptimizer(_ name: String) -> Optimizer {
        switch name {
        case "sgd": return SGD()
        case "sgd_momentum": return SGD(momentum: 0.9, dampening: 0.1, weightDecay: 0.01)
        case "sgd_nesterov": return SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true)
        case "adam": return Adam()
        case "adam_l2": return Adam(beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1)
        case "adamw": return Adam.adamW(weightDecay: 0.01)
        default: fatalError("unknown case \(name)")
        }
    }

    func testUpdatesMatchPyTorch() throws {
        let fixture = try fixtureJSON("optim_fixtures.json")
        let shape = (fixture["shape"] as! [Int])
        let grads = (fixture["grads"] as! [Any]).map(floats)
        let rates = floats(fixture["learning_rates"])
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as! String
            let expected = (c["expected"] as! [Any]).map(floats)
            let p = Tensor(floats(fixture["initial"]), shape: shape, requiresGrad: true)
            let opt = makeOptimizer(name)
            for step in 0..<3 {
                p.grad = Tensor(grads[step], shape: shape)
                opt.update([("w", p)], learningRate: rates[step])
                assertClose(p.scalars, expected[step], relative: 1e-6, "\(name) step \(step + 1)")
            }
        }
    }

    /// The SIMD loop's tail (count % 16) and parallel chunks must compute exactly what the scalar formula does.
    func testLargeParameterMatchesScalarReference() {
        var rng = RandomGenerator(seed: 3)
        let n = 40_000 + 7  // several parallel chunks and a ragged tail
        let p = Tensor.normal([n], rng: &rng, requiresGrad: true)
        let start = p.scalars
        let g = Tensor.normal([n], rng: &rng)
        p.grad = g
        let opt = SGD(momentum: 0.9, weightDecay: 0.1, nesterov: true)
        opt.update([("w", p)], learningRate: 0.5)
        let gs = g.scalars
        let expected = (0..<n).map { i -> Float in
            let d = gs[i] + 0.1 * start[i]
            return start[i] - 0.5 * (d + 0.9 * d)
        }
        XCTAssertEqual(p.scalars, expected)
    }

    func testParametersWithoutGradientsAreSkipped() {
        let a = Tensor([1, 2], shape: [2], requiresGrad: true), b = Tensor([3, 4], shape: [2], requiresGrad: true)
        a.grad = Tensor([1, 1], shape: [2])
        let opt = Adam()
        opt.update([("a", a), ("b", b)], learningRate: 0.1)
        XCTAssertEqual(b.scalars, [3, 4])
        XCTAssertEqual(Set(opt.state().map(\.0)), ["a.exp_avg", "a.exp_avg_sq", "a.step", "step"])
    }

    /// State out, state in: a second optimizer continues exactly like the first.
    func testStateRoundTripContinuesExactly() throws {
        for make in [{ SGD(momentum: 0.9, nesterov: true) as Optimizer }, { Adam() }, { Adam.adamW() }] {
            let p1 = Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
            let p2 = Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
            let (o1, o2) = (make(), make())
            for (o, p) in [(o1, p1), (o2, p2)] { p.grad = Tensor([0.1, 0.2, -0.3], shape: [3]); o.update([("enc.0.w", p)], learningRate: 0.1) }
            let o3 = make()
            try o3.load(state: Dictionary(uniqueKeysWithValues: o1.state()))
            XCTAssertEqual(o3.state().map(\.0), o1.state().map(\.0))
            p1.grad = Tensor([-0.2, 0.4, 0.1], shape: [3]); p2.grad = p1.grad
            o1.update([("enc.0.w", p1)], learningRate: 0.05)
            o3.update([("enc.0.w", p2)], learningRate: 0.05)
            XCTAssertEqual(p1.scalars, p2.scalars, "\(type(of: o1))")
        }
    }

    func testLoadRejectsForeignState() {
        assertThrows(["SGD", "enc.w.exp_avg"]) { try SGD(momentum: 0.9).load(state: ["enc.w.exp_avg": Tensor.zeros([2])]) }
        assertThrows(["Adam", "w.momentum_buffer"]) { try Adam().load(state: ["w.momentum_buffer": Tensor.zeros([2])]) }
        assertThrows(["Adam", "w", "exp_avg_sq"]) { try Adam().load(state: ["w.exp_avg": Tensor.zeros([2])]) }
        assertThrows(["step"]) { try Adam().load(state: ["step": Tensor(-1.5)]) }
    }

    func testClipGradNorm() {
        let a = Tensor.zeros([2], requiresGrad: true), b = Tensor.zeros([2, 2], requiresGrad: true)
        let c = Tensor.zeros([3], requiresGrad: true)  // no gradient: ignored
        a.grad = Tensor([3, 0], shape: [2])
        b.grad = Tensor([0, 4, 0, 12], shape: [2, 2])   // global norm √(9 + 16 + 144) = 13
        let params = [("a", a), ("b", b), ("c", c)]
        XCTAssertEqual(clipGradNorm(params, maxNorm: 20), 13, accuracy: 1e-6)
        XCTAssertEqual(a.grad!.scalars, [3, 0], "below the limit: unchanged")
        XCTAssertEqual(clipGradNorm(params, maxNorm: 6.5), 13, accuracy: 1e-6)
        assertClose(a.grad!.scalars, [1.5, 0], relative: 1e-6, "a")
        assertClose(b.grad!.scalars, [0, 2, 0, 6], relative: 1e-6, "b")
        XCTAssertEqual(clipGradNorm(params, maxNorm: 100), 6.5, accuracy: 1e-5, "norm after clipping")
        XCTAssertNil(c.grad)
        b.grad = Tensor([.infinity, 1, 1, 1], shape: [2, 2])
        XCTAssertTrue(clipGradNorm(params, maxNorm: 1).isInfinite)
        XCTAssertEqual(b.grad!.scalars[1], 1, "non-finite norm leaves gradients alone")
    }

    func testClipDoesNotTouchSharedGradientStorage() {
        let a = Tensor.zeros([2], requiresGrad: true), b = Tensor.zeros([2], requiresGrad: true)
        let shared = Tensor([3, 4], shape: [2])
        a.grad = shared; b.grad = shared          // one buffer behind two gradients, as a VJP may return
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 1), Float(50).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(a.grad!.scalars, b.grad!.scalars)
        XCTAssertEqual(shared.scalars, [3, 4])
        assertClose(a.grad!.scalars, [3 / Float(50).squareRoot(), 4 / Float(50).squareRoot()], relative: 1e-5, "scaled once")
    }
}
