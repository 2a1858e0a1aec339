@testable import SonoConvNets
import SonoBase
import XCTest
import SonoImaging
@testable import SonoPipeline
import SonoKernels
import SonoModels
import SonoNN

/// The classify pipeline end to end on a BUSI-layout folder of discs (benign) and squares (malignant).
final class PipelineTests: SingleThreadedRunTestCase {
    func testMultitaskRunWritesModelThatSegmentPrintsClassFrom() throws {
        let data = try makeShapeBUSI(perClass: 10)
        let run = tmp("mt")
        var c = tinyRecipe(data: data, task: .multitask, model: .uresnet, epochs: 2)
        (c.segmentationWeight, c.classificationWeight) = (2, 0.5)
        let summary = try trainTask(c, folder: run, quiet: true, log: { _ in })
        XCTAssertEqual(summary.classNames, ["benign", "malignant"])
        XCTAssertEqual(summary.epochsRun, 2)
        XCTAssertNotNil(summary.test?.accuracy)
        XCTAssertNotNil(summary.test?.dice)
        XCTAssertEqual(summary.classWeights?.count, 2)
        XCTAssertEqual(TaskRunLog.read(RunFolder(run).log).count, 2)
        for f in ["test/classification.json", "test/classification.md", "test/predictions.csv", "test/metrics.json", "model.safetensors", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(f).path), f)
        }

        let model = try LoadedModel(run)
        XCTAssertEqual(model.info.classNames, ["benign", "malignant"])
        XCTAssertTrue(model.classifies && model.segments)
        XCTAssertEqual(model.info.architecture, "uresnet")
        var rng = RandomGenerator(seed: 5)
        let (img, _) = shape(square: true, size: 80, rng: &rng)
        let imageURL = run.appendingPathComponent("new.png")
        try ImageIO.writePNG(img, to: imageURL)
        var lines: [String] = []
        let rows = try segment([imageURL], model: model, options: SegmentOptions(), out: run.appendingPathComponent("seg"), log: { lines.append($0) })
        XCTAssertNotNil(rows[0].className)
        XCTAssertTrue(["benign", "malignant"].contains(rows[0].className!))
        XCTAssertGreaterThanOrEqual(rows[0].classProbability!, 0.5)
        XCTAssertTrue(lines[0].contains("class \(rows[0].className!)"), lines[0])
        let csv = try String(contentsOf: run.appendingPathComponent("seg/summary.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(csv[0].hasPrefix("image,frame,width,height,lesion_found,area_px,") && csv[0].contains(",mean_probability,class,class_probability,lesion_probability,pathology,malignancy_probability,birads,birads_probability"), String(csv[0]))
        XCTAssertTrue(csv[1].contains(",\(rows[0].className!),"))
        let json = try String(contentsOf: run.appendingPathComponent("seg/summary.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"class\"") && json.contains("\"class_probability\"") && json.contains("\"model_sha256\""))
    }

    func testClassifierRunResumesExactlyAndCannotSegment() throws {
        let data = try makeShapeBUSI(perClass: 8, size: 32)
        var c = tinyRecipe(data: data, task: .classify, model: .cnn, epochs: 3)
        (c.preprocess.width, c.preprocess.height, c.sampler, c.augment) = (32, 32, .balanced, true)
        let straight = tmp("straight"), resumed = tmp("resumed")
        _ = try trainTask(c, folder: straight, quiet: true, log: { _ in })
        _ = try trainTask(c, folder: resumed, quiet: true, stopAfter: 1, log: { _ in })
        XCTAssertThrowsError(try trainTask(c, folder: resumed, quiet: true, log: { _ in })) { XCTAssertTrue("\($0)".contains("--resume")) }
        _ = try trainTask(c, folder: resumed, resume: true, quiet: true, log: { _ in })
        let a = try Safetensors.read(RunFolder(straight).last).tensors, b = try Safetensors.read(RunFolder(resumed).last).tensors
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]!.scalars, "tensor \(k) differs after resume") }

        let model = try LoadedModel(straight)
        XCTAssertTrue(model.classifies)
        XCTAssertFalse(model.segments)
        let samples = try evaluationSamples(path: data.path, split: RunFolder(straight).url.appendingPathComponent("split-0.json").path, part: .test)
        let e = try evaluateTask(model, samples: samples)
        XCTAssertEqual(e.classification?.samples, samples.count)
        XCTAssertNil(e.segmentation)
        XCTAssertThrowsError(try segment([data.appendingPathComponent("benign/benign (1).png")], model: model, options: SegmentOptions(),
                                         out: tmp("seg"), log: { _ in })) { XCTAssertTrue("\($0)".contains("classify evaluate"), "\($0)") }
    }

    func testConfigErrorsNameTheSetting() throws {
        var c = ClassifyConfig()
        c.data = [DataSource(path: "/nowhere")]
        c.task = .segment
        c.model.kind = .vgg16
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("fcn or uresnet"), "\($0)") }
        c.task = .classify
        c.model.kind = .uresnet
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("multitask"), "\($0)") }
        let partial = try DefaultsDecoder().decode(ClassifyConfig.self, from: Data(#"{"task": "multitask", "model": {"kind": "fcn", "segmenter": {"skips": false}}}"#.utf8))
        XCTAssertEqual(partial.task, .multitask)
        XCTAssertEqual(partial.model.segmenter.skips, false)
        XCTAssertEqual(partial.model.segmenter.decoderChannels, BackboneSegmenterConfig().decoderChannels, "missing keys keep defaults")
        XCTAssertEqual(partial.epochs, ClassifyConfig().epochs)

        // Every size of the chosen network has a range; the message names key, value and range.
        var bad = ClassifyConfig()
        bad.data = [DataSource(path: "/nowhere")]
        bad.model.kind = .resnet18
        bad.model.resnet.baseWidth = -8
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("model.resnet.baseWidth is -8; allowed: 1-512"), "\($0)") }
        (bad.model.kind, bad.model.cnn.widths) = (.cnn, [16, 0])
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("model.cnn.widths[1] is 0"), "\($0)") }
        (bad.model.kind, bad.model.vit.dim, bad.model.vit.heads) = (.vit, 130, 4)
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("multiple of vit.heads"), "\($0)") }
        (bad.model.kind, bad.classWeights) = (.resnet18, [1, .nan])
        bad.model.resnet.baseWidth = 16
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("classWeights"), "\($0)") }
        (bad.classWeights, bad.classificationWeight) = (nil, 1e9)
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("classificationWeight is"), "\($0)") }
    }

    func testGridRecipeParses() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("recipes/classify/jimenez-xu.json")
        let recipe = try TaskGridRecipe.load(url)
        XCTAssertEqual(Set(recipe.variants.map { try! recipe.config($0).model.kind }), Set([.cnn, .resnet50, .vgg16, .vit, .fcn, .uresnet]))
        for v in recipe.variants { XCTAssertNoThrow(try recipe.config(v).validate(), v.name) }
        XCTAssertTrue(recipe.variants.contains { (try? recipe.config($0).task) == .multitask })
        let three = try ClassifyConfig.load(url.deletingLastPathComponent().appendingPathComponent("multitask-busi-3class.json"))
        XCTAssertNoThrow(try three.validate())
        XCTAssertEqual(three.classNames?.count, 3)
    }
}
