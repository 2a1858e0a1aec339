@testable import SonoConvNets
import SonoBase
import XCTest
import SonoImaging
@testable import SonoPipeline
import SonoNN

final class TrainingTests: XCTestCase {
    func testTinyUNetLearnsDiscs() throws {
        let data = try makeDiscDataset(count: 24)
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-run-\(UUID().uuidString)")
        let summary = try train(tinyConfig(data: data, epochs: 25), folder: run, quiet: true, log: { _ in })
        // 2026-12-04: 0.977 / 0.977 (AVX-512 / AVX2 cap)
        XCTAssertGreaterThan(summary.bestValidationDice, 0.9, "a tiny U-Net should segment bright discs")
        let log = RunLog.read(RunFolder(run).log)
        XCTAssertEqual(log.count, 25)
        XCTAssertTrue(FileManager.default.fileExists(atPath: RunFolder(run).best.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("config.json").path))

        // The saved model segments a new disc at its own size through the CLI's code path.
        let out = run.appendingPathComponent("seg")
        var rng = RandomGenerator(seed: 99)
        let (img, truth) = disc(size: 80, rng: &rng)
        let imageURL = run.appendingPathComponent("new.png")
        try ImageIO.writePNG(img, to: imageURL)
        let model = try LoadedModel(run)
        let rows = try segment([imageURL], model: model, options: SegmentOptions(), out: out, log: { _ in })
        XCTAssertEqual(rows.count, 1)
        let mask = try ImageIO.readMask(out.appendingPathComponent("new_mask.png")).mask
        XCTAssertEqual(mask.width, 80)
        XCTAssertEqual(mask.height, 80)
        let inter = zip(mask.pixels, truth.pixels).filter { $0.0 == 1 && $0.1 == 1 }.count
        let dice = 2 * Double(inter) / Double(mask.area + truth.area)
        // 2026-12-04: Dice 0.945 / 0.944, area 918 / 919 px against 822 (AVX-512 / AVX2 cap)
        XCTAssertGreaterThan(dice, 0.85, "mask at the input's size should match the disc")
        for name in ["new_prob.png", "new_overlay.png", "summary.csv", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
        XCTAssertTrue(rows[0].lesionFound)
        XCTAssertEqual(Double(rows[0].areaPixels), Double(truth.area), accuracy: Double(truth.area) * 0.3)
        for name in ["new_heatmap.png"] { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name) }
        // --resolution 2x: the probability resized to 160x160 and its mask, which still matches the disc
        var hires = SegmentOptions()
        hires.highResolution = .factor(2)
        let hiresOut = run.appendingPathComponent("seg-hires")
        _ = try segment([imageURL], model: model, options: hires, out: hiresOut, log: { _ in })
        let big = try ImageIO.readMask(hiresOut.appendingPathComponent("new_mask_hires.png")).mask
        XCTAssertEqual([big.width, big.height], [160, 160])
        XCTAssertEqual(Double(big.area), Double(mask.area * 4), accuracy: Double(mask.area) * 0.4)

        // The run draws its curves each epoch; the report of the run and of an evaluation show what they hold.
        let curves = try String(contentsOf: run.appendingPathComponent("curves.svg"), encoding: .utf8)
        XCTAssertTrue(curves.contains("validation Dice") && curves.contains("train loss") && curves.contains("learning rate"))
        let runReport = try String(contentsOf: try HTMLReport.write(run), encoding: .utf8)
        XCTAssertTrue(runReport.contains("<h2>Training curves</h2>") && runReport.contains("<polyline"))
        XCTAssertTrue(runReport.contains(ResearchUse.notice), "the report carries the research-use line")
        let samples = try evaluationSamples(path: data.path, split: nil, part: .all)
        let report = try evaluate(model, samples: samples).report
        let eval = run.appendingPathComponent("eval")
        try writeEvaluation(report, name: "tiny", skipped: [], to: eval)
        try writeCaseOverlays(model, samples: samples, report: report, folder: eval)
        let cases = try JSONFiles.read([HTMLReport.Case].self, from: eval.appendingPathComponent("cases/cases.json"))
        XCTAssertEqual(cases.map(\.kind), ["best", "median", "worst"])
        XCTAssertGreaterThanOrEqual(cases[0].dice, cases[2].dice)
        let html = try String(contentsOf: try HTMLReport.write(eval, title: "tiny <model>"), encoding: .utf8)
        XCTAssertTrue(html.contains("tiny &lt;model&gt;") && html.contains("Dice per image") && html.contains("<table>"))
        XCTAssertEqual(html.components(separatedBy: "data:image/png;base64,").count - 1, 3, "three cases inlined")
        XCTAssertFalse(html.contains("src=\"http"), "nothing from the network")
        XCTAssertThrowsError(try HTMLReport.write(run.appendingPathComponent("seg"))) { XCTAssertTrue("\($0)".contains("nothing to report")) }
    }

    func testResumeMatchesUninterruptedRun() throws {
        let data = try makeDiscDataset(count: 12)
        let tmp = FileManager.default.temporaryDirectory
        let straight = tmp.appendingPathComponent("sonoseg-straight-\(UUID().uuidString)")
        let resumed = tmp.appendingPathComponent("sonoseg-resumed-\(UUID().uuidString)")
        var config = tinyConfig(data: data, epochs: 4)
        config.optimizer.schedule = .cosine
        config.augment = true
        _ = try train(config, folder: straight, quiet: true, log: { _ in })
        _ = try train(config, folder: resumed, quiet: true, stopAfter: 2, log: { _ in })
        XCTAssertEqual(RunLog.read(RunFolder(resumed).log).count, 2)
        _ = try train(config, folder: resumed, resume: true, quiet: true, log: { _ in })
        let a = try Safetensors.read(RunFolder(straight).last).tensors
        let b = try Safetensors.read(RunFolder(resumed).last).tensors
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]!.scalars, "tensor \(k) differs after resume") }
        XCTAssertEqual(RunLog.read(RunFolder(straight).log).map(\.trainLoss), RunLog.read(RunFolder(resumed).log).map(\.trainLoss))
    }

    func testStartingOverAnExistingRunNeedsResume() throws {
        let data = try makeDiscDataset(count: 8)
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-twice-\(UUID().uuidString)")
        _ = try train(tinyConfig(data: data, epochs: 1), folder: run, quiet: true, log: { _ in })
        XCTAssertThrowsError(try train(tinyConfig(data: data, epochs: 1), folder: run, quiet: true, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("--resume"), "\($0)")
        }
    }

    func testDeepSupervisionWithDiscriminatorsTrains() throws {
        let data = try makeDiscDataset(count: 8)
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-ds-\(UUID().uuidString)")
        var config = tinyConfig(data: data, epochs: 2)
        config.deepSupervision.stages = 2
        let summary = try train(config, folder: run, quiet: true, log: { _ in })
        XCTAssertEqual(summary.epochsRun, 2)
        let model = try LoadedModel(run)
        guard case .unet(let net) = model.network else { return XCTFail("a U-Net model file should load as a U-Net") }
        XCTAssertEqual(net.stageHeads.count, 1)
        let keys = try Safetensors.read(RunFolder(run).last).tensors.keys
        XCTAssertTrue(keys.contains { $0.hasPrefix("model.disc.1.") }, "checkpoint holds both discriminators")
    }

    func testBadRecipeAndModelErrorsNameTheFile() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
        try Data("{\"epochs\": \"many\"}".utf8).write(to: bad)
        XCTAssertThrowsError(try TrainConfig.load(bad)) { XCTAssertTrue("\($0)".contains(bad.path) && "\($0)".contains("epochs"), "\($0)") }
        let notModel = FileManager.default.temporaryDirectory.appendingPathComponent("nm-\(UUID().uuidString).safetensors")
        try Data("garbage".utf8).write(to: notModel)
        XCTAssertThrowsError(try LoadedModel(notModel)) { XCTAssertTrue("\($0)".contains(notModel.path), "\($0)") }
    }

    /// `repeats` shows a dataset's training images several times per epoch and leaves validation and test alone.
    func testRepeatsMultiplyOnlyTheTrainingPart() throws {
        let data = try makeDiscDataset(count: 10, size: 32)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repeats-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: folder) }
        var c = tinyConfig(data: data, epochs: 1)
        let once = try TrainingData.prepare(c, runFolder: folder)
        c.data[0].repeats = 3
        c.data[0].split = folder.appendingPathComponent("split-0.json").path
        let thrice = try TrainingData.prepare(c, runFolder: folder)
        XCTAssertEqual(thrice.train.count, 3 * once.train.count)
        XCTAssertEqual(thrice.validation.map(\.id), once.validation.map(\.id))
        XCTAssertEqual(thrice.test.map(\.id), once.test.map(\.id))
    }

    /// `initialWeights` starts a run from a trained model's U-Net (fine-tuning); a different architecture is
    /// refused with a message naming the file.
    func testFineTuningStartsFromTheGivenWeights() throws {
        let data = try makeDiscDataset(count: 8, size: 32)
        let tmp = FileManager.default.temporaryDirectory
        let source = tmp.appendingPathComponent("sonoseg-source-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: source) }
        _ = try train(tinyConfig(data: data, epochs: 1), folder: source, quiet: true, log: { _ in })
        let saved = try Safetensors.read(RunFolder(source).best).tensors

        var config = tinyConfig(data: data, epochs: 1)
        config.seed = 7   // a different random init, so equality below comes from the load
        var rng = RandomGenerator(seed: config.seed)
        let model = SegmentationModel(config, rng: &rng)
        let (firstName, firstTensor) = model.stateDict().first { $0.0.hasSuffix("weight") }!
        XCTAssertNotEqual(firstTensor.scalars, saved[firstName]!.scalars)
        let file = try model.loadInitialWeights(source)   // a run folder resolves to its model.safetensors
        XCTAssertEqual(file.lastPathComponent, "model.safetensors")
        for (name, t) in model.stateDict() { XCTAssertEqual(t.scalars, saved[name]!.scalars, "\(name) not loaded") }

        // the checkpoint of a run works too
        let fromCheckpoint = SegmentationModel(config, rng: &rng)
        _ = try fromCheckpoint.loadInitialWeights(RunFolder(source).last)
        XCTAssertEqual(fromCheckpoint.stateDict().count, model.stateDict().count)

        var wider = config
        wider.model.baseChannels = 16
        wider.initialWeights = source.path
        let target = tmp.appendingPathComponent("sonoseg-wider-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: target) }
        XCTAssertThrowsError(try train(wider, folder: target, quiet: true, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("initialWeights") && "\($0)".contains("model.safetensors"), "\($0)")
        }
        var missing = config
        missing.initialWeights = tmp.appendingPathComponent("no-such-model.safetensors").path
        XCTAssertThrowsError(try train(missing, folder: target.appendingPathComponent("b"), quiet: true, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("no-such-model.safetensors"), "\($0)")
        }
    }
}
