@testable import SonoConvNets
@testable import SonoDiagnosis
@testable import SonoMetrics
import Foundation
import SonoBase
import SonoData
import SonoImaging
@testable import SonoPipeline
import SonoKernels
import XCTest

/// A lesion-crop classifier and a diagnosis bundle end to end on shapes (discs benign, squares malignant,
/// noise-only normals), with `segment` running the bundle.
final class DiagnosisBundleTests: SingleThreadedRunTestCase {
    func testCropClassifierBundleAndSegmentWithDiagnosis() throws {
        let data = try makeShapeBUSI(perClass: 10)
        let normals = data.appendingPathComponent("normal")
        try FileManager.default.createDirectory(at: normals, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 9)
        for i in 1...6 {
            let noise = GrayImage(width: 64, height: 64, pixels: (0..<4096).map { _ in 0.3 + 0.2 * (rng.uniform() - 0.5) })
            try ImageIO.writePNG(noise, to: normals.appendingPathComponent("normal (\(i)).png"))
            try ImageIO.writePNG(Mask(width: 64, height: 64), to: normals.appendingPathComponent("normal (\(i))_mask.png"))
        }
        var s = tinyRecipe(data: data, task: .segment, model: .uresnet, epochs: 3)
        s.data[0].excludeClasses = ["normal"]
        let segRun = tmp("seg")
        _ = try trainTask(s, folder: segRun, quiet: true, log: { _ in })
        var c = tinyRecipe(data: data, task: .classify, model: .cnn, epochs: 2)
        c.data[0].excludeClasses = ["normal"]
        (c.preprocess.width, c.preprocess.height, c.preprocess.crop) = (32, 32, LesionCropConfig())
        let clsRun = tmp("crop")
        let summary = try trainTask(c, folder: clsRun, quiet: true, log: { _ in })
        XCTAssertNotNil(summary.test?.accuracy, "the test part is scored with ground-truth windows")

        let crop = try LoadedModel(clsRun)
        XCTAssertNotNil(crop.info.preprocess.crop)
        XCTAssertThrowsError(try crop.predict(image: GrayImage(width: 64, height: 64))) { error in
            XCTAssertTrue("\(error)".contains("needs its mask"), "\(error)")
        }
        let segmenter = try LoadedModel(segRun)
        let samples = try evaluationSamples(path: data.path, split: nil, part: .all, excludeClasses: ["normal"])
        let scored = try evaluateTask(crop, samples: samples, lesions: LesionSource(segmenter))
        XCTAssertEqual(scored.classification?.samples, 20)
        XCTAssertNotNil(scored.classification?.calibration)
        let scoredFolder = tmp("scored")
        try writeTaskEvaluation(scored, name: "crop", to: scoredFolder)
        let classReport = try String(contentsOf: try HTMLReport.write(scoredFolder), encoding: .utf8)
        XCTAssertTrue(classReport.contains("ROC, malignant") && classReport.contains("ECE") && classReport.contains("True \\ Predicted"))

        var p = tinyRecipe(data: data, task: .classify, model: .cnn, epochs: 2)
        (p.labels, p.classNames, p.positiveClass) = (.presence, ["normal", "lesion"], "lesion")
        (p.preprocess.width, p.preprocess.height) = (32, 32)
        let presenceRun = tmp("presence")
        XCTAssertEqual(try trainTask(p, folder: presenceRun, quiet: true, log: { _ in }).classNames, ["normal", "lesion"])

        let bundle = tmp("bundle")
        var recipe = DiagnosisRecipe(segmenter: segRun.path, pathology: [clsRun.path, clsRun.path], birads: nil,
                                     calibration: [DiagnosisImages(path: data.path, split: nil, part: .all)])
        recipe.presenceClassifier = presenceRun.path
        let manifest = try fitDiagnosis(recipe, out: bundle, log: { _ in })
        XCTAssertEqual(manifest.pathology.files, ["pathology-1.safetensors", "pathology-2.safetensors"])
        XCTAssertGreaterThan(manifest.pathology.temperature, 0)
        XCTAssertEqual(manifest.segmenterSHA256, try SHA256.hex(file: segmenter.url))
        XCTAssertEqual(manifest.presence.featureNames.last, PresenceFeatures.classifierName)
        for f in ["diagnosis.json", "pathology-1.safetensors", "pathology-2.safetensors", "presence.safetensors", "fit.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: bundle.appendingPathComponent(f).path), f)
        }
        let diagnoser = try Diagnoser(bundle)
        // An averaged pair of one network gives that network's probabilities, calibrated by the ensemble's temperature.
        let window = try LesionSource(segmenter).mask(try ImageIO.readGray(data.appendingPathComponent("malignant/malignant (2).png")).image)
        let image = try ImageIO.readGray(data.appendingPathComponent("malignant/malignant (2).png")).image
        let raw = try crop.classify(image: image, lesion: window)
        let expected = TemperatureScaling.apply(TemperatureScaling.logits([raw]), temperature: manifest.pathology.temperature)[0]
        let got = try diagnoser.classifyLesion(image: image, mask: window).pathology
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        // A model already calibrated (temperature in its header) is refused as a member.
        var info = crop.info
        info.temperature = 2
        let calibrated = tmp("calibrated.safetensors")
        try exportModel(crop.url, to: calibrated, dtype: .f32, metadata: try info.metadata())
        XCTAssertThrowsError(try fitDiagnosis(DiagnosisRecipe(segmenter: segRun.path, pathology: [calibrated.path],
                                                              birads: nil, calibration: recipe.calibration), out: tmp("again"), log: { _ in })) {
            XCTAssertTrue("\($0)".contains("already calibrated"), "\($0)")
        }

        let images = [data.appendingPathComponent("malignant/malignant (1).png"), normals.appendingPathComponent("normal (1).png")]
        let out = tmp("out")
        var lines: [String] = []
        let rows = try segment(images, model: segmenter, options: SegmentOptions(), diagnoser: diagnoser, out: out, log: { lines.append($0) })
        XCTAssertTrue(rows.allSatisfy { $0.lesionProbability != nil })
        for row in rows where !row.lesionFound { XCTAssertNil(row.pathology) }
        for row in rows where row.lesionFound {
            XCTAssertNotNil(row.pathology); XCTAssertNotNil(row.malignancyProbability)
            XCTAssertTrue(lines.contains { $0.contains("P(malignant)") }, "\(lines)")
        }
        let csv = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8)
        XCTAssertTrue(csv.split(separator: "\n")[0].contains("lesion_probability,pathology,malignancy_probability,birads,birads_probability,model,model_sha256"))
        let overlay = try ImageIO.read(out.appendingPathComponent("malignant (1)_overlay.png"))
        XCTAssertGreaterThan(overlay.height, 64, "the overlay carries a caption band")

        let evaluation = try evaluateDiagnosis(diagnoser, segmenter: segmenter, images: recipe.calibration, log: { _ in })
        XCTAssertEqual(evaluation.predictions.count, 26)
        XCTAssertEqual(evaluation.presence?.samples, 26)
        XCTAssertEqual(evaluation.pathology?.samples, 20)
        try evaluation.write(to: out.appendingPathComponent("eval"), name: "shapes")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("eval/reliability-pathology.svg").path))
        let diagnosisReport = try String(contentsOf: try HTMLReport.write(out.appendingPathComponent("eval")), encoding: .utf8)
        XCTAssertTrue(diagnosisReport.contains("<h2>Diagnosis</h2>") && diagnosisReport.contains("Lesion presence"))

        // A bundle whose presence model is broken is refused with the file named.
        var bad = manifest
        bad.presence.threshold = 2
        try JSONFiles.write(bad, to: bundle.appendingPathComponent("diagnosis.json"))
        XCTAssertThrowsError(try Diagnoser(bundle)) { XCTAssertTrue("\($0)".contains("diagnosis.json: invalid presence model"), "\($0)") }
    }
}
