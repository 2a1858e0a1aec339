import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

/// Same seed → same weights and loss curve; a checkpointed run resumes bit-identically.
final class DeterminismTests: XCTestCase {
    /// conv → batch norm → ReLU → conv: oneDNN convolutions, parameters and running-statistics buffers, all
    /// of which must reproduce and all of which a checkpoint must restore.
    static func makeNet(seed: UInt64) -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return Sequential([
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1, rng: &rng),
            BatchNorm(channels: 4),
            Lambda { $0.relu() },
            Conv2D(inputChannels: 4, outputChannels: 1, kernelSize: 3, padding: 1, rng: &rng),
        ])
    }

    /// The batch for a step is a function of the step alone, so a resumed run sees the same data.
    static func batch(step: Int) -> (Tensor, Tensor) {
        var rng = RandomGenerator(seed: 10_000 + UInt64(step))
        let x = Tensor.normal([2, 1, 8, 8], rng: &rng)
        let y = Tensor((0..<128).map { _ in rng.uniform() > 0.6 ? 1 : 0 }, shape: [2, 1, 8, 8])
        return (x, y)
    }

    static let schedule = LearningRateSchedule.cosine(peak: 0.05, warmupSteps: 2)
    static let totalSteps = 5

    /// Runs steps `range`, returning the losses.
    static func train(_ net: Sequential, _ opt: Optimizer, steps range: Range<Int>) -> [Float] {
        let params = net.namedParameters()
        return range.map { step in
            opt.zeroGrad(params)
            let (x, y) = batch(step: step)
            let loss = binaryCrossEntropyWithLogits(net(x), y)
            loss.backward()
            clipGradNorm(params, maxNorm: 1)
            opt.update(params, learningRate: schedule.rate(step: step, totalSteps: totalSteps))
            return loss.item
        }
    }

    static func values(_ m: Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.0, $0.1.scalars) })
    }

    func testSameSeedSameWeightsAndLossCurve() {
        let (a, b, c) = (Self.makeNet(seed: 7), Self.makeNet(seed: 7), Self.makeNet(seed: 8))
        XCTAssertEqual(Self.values(a), Self.values(b))
        XCTAssertNotEqual(Self.values(a)["0.weight"], Self.values(c)["0.weight"])
        let curveA = Self.train(a, Adam(), steps: 0..<5), curveB = Self.train(b, Adam(), steps: 0..<5)
        let curveC = Self.train(c, Adam(), steps: 0..<5)
        XCTAssertEqual(curveA, curveB)
        XCTAssertEqual(Self.values(a), Self.values(b))
        XCTAssertNotEqual(curveA, curveC)
        XCTAssertLessThan(curveA.last!, curveA.first!, "training should reduce the loss")
    }

    struct Progress: Codable, Equatable {
        var step: Int
        var seed: UInt64
        var schedule: LearningRateSchedule
    }

    func testResumeFromCheckpointIsBitIdentical() throws {
        let folder = try temporaryFolder(self)
        let optimizers: [(String, () -> Optimizer)] = [
            ("adam", { Adam() }), ("adamw", { Adam.adamW(weightDecay: 0.05) }),
            ("sgd", { SGD(momentum: 0.9, weightDecay: 1e-3, nesterov: true) }),
        ]
        for (name, makeOptimizer) in optimizers {
            let straight = Self.makeNet(seed: 3), straightOpt = makeOptimizer()
            let fullCurve = Self.train(straight, straightOpt, steps: 0..<5)

            let first = Self.makeNet(seed: 3), firstOpt = makeOptimizer()
            let head = Self.train(first, firstOpt, steps: 0..<3)
            let url = folder.appendingPathComponent("\(name).safetensors")
            try Checkpoint.save(model: first, optimizer: firstOpt,
                                extra: Progress(step: 3, seed: 3, schedule: Self.schedule), to: url)

            let resumed = Self.makeNet(seed: 99), resumedOpt = makeOptimizer()  // different init: all must load
            let progress = try Checkpoint.load(model: resumed, optimizer: resumedOpt, extra: Progress.self, from: url)
            XCTAssertEqual(progress, Progress(step: 3, seed: 3, schedule: Self.schedule))
            XCTAssertEqual(Self.values(resumed), Self.values(first), name)
            let tail = Self.train(resumed, resumedOpt, steps: progress.step..<5)

            XCTAssertEqual(head + tail, fullCurve, "\(name): loss curve")
            XCTAssertEqual(Self.values(resumed), Self.values(straight), "\(name): final weights and BN statistics")
            XCTAssertEqual(resumedOpt.state().map { $0.1.scalars }, straightOpt.state().map { $0.1.scalars }, "\(name): optimizer state")
        }
    }
}
