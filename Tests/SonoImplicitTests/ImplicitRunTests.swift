import SonoImplicit
import SonoBase
import XCTest
import SonoTestSupport
import SonoImaging
import SonoModels
import SonoPipeline
import SonoKernels

/// The run-folder path: dataset on disk → split → checkpoints → resume → model → evaluate / segment / inpaint.
final class ImplicitRunTests: XCTestCase {
    override class func setUp() { Parallel.threads = 1 }

    func makeShapeFolder(count: Int, size: Int) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("implicit-shapes-\(UUID().uuidString)")
        let images = root.appendingPathComponent("images"), masks = root.appendingPathComponent("masks")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 11)
        for i in 0..<count {
            let s = Shape.random(.disc, &rng)
            try ImageIO.writePNG(GrayImage(width: size, height: size, pixels: s.image(size)), to: images.appendingPathComponent("case\(i).png"))
            try ImageIO.writePNG(Mask(width: size, height: size, pixels: s.mask(size).map { UInt8($0) }), to: masks.appendingPathComponent("case\(i).png"))
        }
        return root
    }

    func config(data: URL) -> ImplicitTrainConfig {
        var c = TinyModels.config(conditioned: false)
        c.data = [DataSource(path: data.path)]
        (c.steps, c.checkpointEvery, c.logEvery) = (12, 4, 2)
        (c.split.folds, c.split.testFraction, c.split.validationFraction) = (0, 0.2, 0.2)
        (c.inference.maxSteps, c.inference.evaluateEvery) = (6, 3)
        c.preprocess.width = 16; c.preprocess.height = 16
        return c
    }

    /// With an encoder (batch-norm statistics, flips, the code head) a resumed run also equals an uninterrupted one.
    func testEncoderRunResumesExactly() throws {
        let data = try makeShapeFolder(count: 15, size: 20)
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("implicit-enc-runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: runs) }
        var c = config(data: data)
        let e = TinyEncoderModel.config()
        (c.model, c.flip, c.inference.initialization) = (e.model, true, .encoder)
        c.model.codeHeadClasses = []
        let a = runs.appendingPathComponent("a"), b = runs.appendingPathComponent("b")
        _ = try trainImplicit(c, folder: a, quiet: true, log: { _ in })
        _ = try trainImplicit(c, folder: b, quiet: true, stopAfter: 6, log: { _ in })
        _ = try trainImplicit(c, folder: b, resume: true, quiet: true, log: { _ in })
        let ma = try ImplicitModel(contentsOf: a.appendingPathComponent("model.safetensors"))
        let mb = try ImplicitModel(contentsOf: b.appendingPathComponent("model.safetensors"))
        for ((name, x), (_, y)) in zip(ma.network.stateDict(), mb.network.stateDict()) {
            XCTAssertEqual(x.scalars, y.scalars, "\(name) differs after resume")
        }
        XCTAssertTrue(ma.network.stateDict().contains { $0.0.hasPrefix("encoder.") })
        XCTAssertEqual(ma.info.curve, mb.info.curve)
    }

    func testResumeEqualsUninterruptedRunAndCommandsWriteTheirFiles() throws {
        let data = try makeShapeFolder(count: 15, size: 20)
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("implicit-runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: runs) }
        let c = config(data: data)
        let a = runs.appendingPathComponent("a"), b = runs.appendingPathComponent("b")
        let whole = try trainImplicit(c, folder: a, quiet: true, log: { _ in })
        XCTAssertEqual(whole.steps, 12)
        let partial = try trainImplicit(c, folder: b, quiet: true, stopAfter: 8, log: { _ in })
        XCTAssertEqual(partial.steps, 8)
        XCTAssertThrowsError(try trainImplicit(c, folder: b, quiet: true, log: { _ in }))   // needs --resume
        var other = c
        other.learningRate *= 2
        XCTAssertThrowsError(try trainImplicit(other, folder: b, resume: true, quiet: true, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("differs"), "\($0)")
        }
        var moreTime = c
        moreTime.maxMinutes = 600   // a longer wall-time budget is not a different recipe
        _ = try trainImplicit(moreTime, folder: b, resume: true, quiet: true, log: { _ in })
        let ma = try ImplicitModel(contentsOf: a.appendingPathComponent("model.safetensors"))
        let mb = try ImplicitModel(contentsOf: b.appendingPathComponent("model.safetensors"))
        for ((name, x), (_, y)) in zip(ma.network.stateDict(), mb.network.stateDict()) {
            XCTAssertEqual(x.scalars, y.scalars, "\(name) differs after resume")
        }
        XCTAssertEqual(ma.info.curve, mb.info.curve)
        let log = try String(contentsOf: b.appendingPathComponent("log.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 6)
        for f in ["config.json", "split-0.json", "last.safetensors", "summary.json", "dice-curve.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: a.appendingPathComponent(f).path), f)
        }

        // evaluate, segment at another resolution, inpaint
        let samples = try evaluationSamples(path: data.path, split: a.appendingPathComponent("split-0.json").path, part: .test)
        XCTAssertFalse(samples.isEmpty)
        // through the one `Segmenter` path every model takes
        var fit = LatentFitOptions()
        fit.steps = 5
        let e = try evaluate(ImplicitSegmenter(ma, fit: fit), samples: samples)
        XCTAssertEqual(e.report.rows.count, samples.count)
        XCTAssertEqual(e.report.rows[0].metrics.width, 20)
        fit.resolution = (40, 40)
        let out = runs.appendingPathComponent("seg")
        let rows = try segment([samples[0].imageURL], model: ImplicitSegmenter(ma, fit: fit), options: SegmentOptions(), out: out, log: { _ in })
        XCTAssertEqual(rows.count, 1)
        let stem = samples[0].imageURL.deletingPathExtension().lastPathComponent
        let mask = try ImageIO.readMask(out.appendingPathComponent("\(stem)_mask.png")).mask
        XCTAssertEqual([mask.width, mask.height], [20, 20])
        for f in ["summary.csv", "summary.json", "\(stem)_prob.png", "\(stem)_overlay.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        // --resolution 3x: the field read at every pixel of a 60x60 image, beside the 20x20 mask
        var hires = SegmentOptions()
        hires.highResolution = try OutputResolution(parsing: "3x")
        let hiresOut = runs.appendingPathComponent("hires")
        _ = try segment([samples[0].imageURL], model: ImplicitSegmenter(ma, fit: fit), options: hires, out: hiresOut, log: { _ in })
        let big = try ImageIO.readMask(hiresOut.appendingPathComponent("\(stem)_mask_hires.png")).mask
        XCTAssertEqual([big.width, big.height], [60, 60])
        XCTAssertTrue(FileManager.default.fileExists(atPath: hiresOut.appendingPathComponent("\(stem)_overlay_hires.png").path))
        XCTAssertEqual(try OutputResolution(parsing: "640x480"), .size(width: 640, height: 480))
        for bad in ["0x", "4", "x480", "99x"] {
            XCTAssertThrowsError(try OutputResolution(parsing: bad)) { XCTAssertTrue("\($0)".contains("--resolution"), "\($0)") }
        }
        // One flat row in the summary's naming, as `segment` writes for the U-Net.
        let json = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"reconstruction_loss\"") && json.contains("\"lesion_found\"") && !json.contains("\"lesion\" :"), json)
        // beyond the plane: a 1.5x wider field at the same pitch whose centre is the reconstruction itself
        fit.extent = 1.5
        let wide = runs.appendingPathComponent("wide")
        _ = try segment([samples[0].imageURL], model: ImplicitSegmenter(ma, fit: fit), options: SegmentOptions(), out: wide, log: { _ in })
        let field = try ImageIO.readGray(wide.appendingPathComponent("\(stem)_extended_reconstruction.png")).image
        let recon = try ImageIO.readGray(wide.appendingPathComponent("\(stem)_reconstruction.png")).image
        XCTAssertEqual([field.width, field.height], [60, 60])
        XCTAssertTrue(FileManager.default.fileExists(atPath: wide.appendingPathComponent("\(stem)_extended_prob.png").path))
        var worst: Float = 0
        for y in 0..<40 { for x in 0..<40 {
            worst = max(worst, abs(field.pixels[(y + 10) * 60 + x + 10] - recon.pixels[y * 40 + x]))
        } }
        XCTAssertLessThanOrEqual(worst, 2.0 / 255)
        var o = InpaintOptions()
        o.fit.steps = 5
        let inpaint = runs.appendingPathComponent("inpaint")
        _ = try inpaintImplicit(samples[0].imageURL, box: (2, 2, 8, 8), model: ma, options: o, out: inpaint)
        XCTAssertTrue(FileManager.default.fileExists(atPath: inpaint.appendingPathComponent("\(stem)_inpainted.png").path))
        XCTAssertThrowsError(try inpaintImplicit(samples[0].imageURL, box: (15, 15, 10, 10), model: ma, options: o, out: inpaint)) {
            XCTAssertTrue("\($0)".contains(samples[0].imageURL.path))
        }
    }

    func testRecipesParseAndValidate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let nisf = try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/nisf.json"))
        XCTAssertFalse(nisf.model.isConditioned)
        XCTAssertNoThrow(try nisf.validate())
        let byra = try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/byra-birads.json"))
        XCTAssertEqual(byra.model.biradsClasses, ["2", "3", "4", "5"])
        XCTAssertEqual(byra.loss.reconstruction, .mse)
        // BUSI has no BI-RADS: its variant is conditioned on pathology alone, normal images left out
        let busi = try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/byra-busi.json"))
        XCTAssertEqual(busi.model.biradsClasses, [])
        XCTAssertEqual(busi.model.pathologyClasses, ["benign", "malignant"])
        XCTAssertEqual(busi.data.first?.excludeClasses, ["normal"])
        XCTAssertNoThrow(try busi.validate())
        let nisfBusi = try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/nisf-busi.json"))
        XCTAssertFalse(nisfBusi.model.isConditioned)
        XCTAssertEqual(nisfBusi.data.first?.split, root.appendingPathComponent("splits/busi-lesions.json").standardizedFileURL.path,
                       "relative paths resolve from the recipe's folder or a parent")
        // the amortised, local-code model and the variants it was chosen from
        let local = try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/byra-local.json"))
        XCTAssertNoThrow(try local.validate())
        XCTAssertEqual(local.inference.initialization, .encoder)
        XCTAssertEqual(local.model.latentGrid, 16)
        XCTAssertEqual(local.model.codeHeadClasses, ["benign", "malignant"])
        let variants = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("recipes/implicit/variants").path)
        XCTAssertEqual(variants.filter { $0.hasSuffix(".json") }.count, 5)
        for v in variants where v.hasSuffix(".json") {
            XCTAssertNoThrow(try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/variants/\(v)")).validate(), v)
        }
        XCTAssertThrowsError(try ImplicitTrainConfig.load(root.appendingPathComponent("recipes/implicit/missing.json"))) {
            XCTAssertTrue("\($0)".contains("missing.json"))
        }
    }
}
