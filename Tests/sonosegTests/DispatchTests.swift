import SonoConvNets
import SonoImplicit
import XCTest
import Foundation
import SonoBase
import SonoPipeline
@testable import sonoseg
import SonoModels
import SonoNN
import SonoTensor

/// `sonoseg segment` and `sonoseg train` reach every kind of model, not only the U-Net.
final class DispatchTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testSegmentRunsAnImplicitModelByLatentOptimisation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dispatch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var info = ImplicitModelInfo()
        (info.network.latentDims, info.network.width, info.network.depth) = (8, 16, 2)
        info.network.biradsClasses = ["2", "4"]
        info.inference.steps = 3
        info.preprocess.width = 32
        info.preprocess.height = 32
        var rng = RandomGenerator(seed: 0)
        let modelURL = dir.appendingPathComponent("model.safetensors")
        try ImplicitModel(network: ImplicitNetwork(info.network, rng: &rng), info: info).save(to: modelURL)
        XCTAssertTrue(ImplicitModel.isImplicitModel(dir.path))
        XCTAssertFalse(ImplicitModel.isImplicitModel(root.appendingPathComponent("models/default").path))

        let image = root.appendingPathComponent("samples/busi-benign-18.png")
        let out = dir.appendingPathComponent("out")
        var command = try SonoSeg.parseAsRoot(["segment", image.path, "--model", dir.path, "--out", out.path, "--threads", "1"])
        try command.run()
        for suffix in ["_mask.png", "_prob.png", "_overlay.png", "_reconstruction.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("busi-benign-18" + suffix).path), suffix)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.csv").path))
        // BI-RADS by latent search is a column of the same summary every model writes
        let table = try CSVTable(contentsOf: out.appendingPathComponent("summary.csv"))
        let column = try XCTUnwrap(table.header.firstIndex(of: "birads_by_search"))
        XCTAssertTrue(["2", "4"].contains(table.rows[0][column]), "predicted BI-RADS \(table.rows[0][column])")
        XCTAssertFalse(table.rows[0][try XCTUnwrap(table.header.firstIndex(of: "reconstruction_loss"))].isEmpty)

        // A three-frame DICOM cine loop through the same path: a row per frame, mm from the file's own
        // calibration, and the bundled diagnosis, as for any other model.
        let cine = dir.appendingPathComponent("cine")
        var dicom = try SonoSeg.parseAsRoot(["segment", root.appendingPathComponent("fuzz/corpus/cine-rle.dcm").path, "--model", dir.path,
                                             "--diagnosis", root.appendingPathComponent("models/diagnosis").path, "--out", cine.path, "--threads", "1"])
        try dicom.run()
        let rows = try JSONDecoder().decode([LesionSummary].self, from: Data(contentsOf: cine.appendingPathComponent("summary.json")))
        XCTAssertEqual(rows.map(\.frame), [1, 2, 3])
        for r in rows {
            XCTAssertEqual(r.spacingSource, "pixel spacing")
            XCTAssertNotNil(r.lesionProbability, "the diagnosis ran")
            if r.lesionFound { XCTAssertNotNil(r.maxDiameterMM) }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: cine.appendingPathComponent("cine-rle_f002_reconstruction.png").path))

        var tta = try SonoSeg.parseAsRoot(["segment", image.path, "--model", dir.path, "--out", out.path, "--tta"])
        XCTAssertThrowsError(try tta.run())   // U-Net-only option named, not ignored
    }

    func testTrainRefusesMismatchedModelAndInapplicableFlags() throws {
        let implicitRecipe = root.appendingPathComponent("recipes/implicit/nisf.json").path
        var epochs = try SonoSeg.parseAsRoot(["train", implicitRecipe, "--epochs", "3", "--out", "/nonexistent/x"])
        XCTAssertThrowsError(try epochs.run()) { XCTAssertTrue("\($0)".contains("--epochs")) }
        var mismatch = try SonoSeg.parseAsRoot(["train", root.appendingPathComponent("recipes/default.json").path,
                                                "--model", "implicit", "--out", "/nonexistent/x"])
        XCTAssertThrowsError(try mismatch.run()) { XCTAssertTrue("\($0)".contains("unet recipe")) }
        var unknown = try SonoSeg.parseAsRoot(["train", "--model", "resnet51", "--out", "/nonexistent/x"])
        XCTAssertThrowsError(try unknown.run()) { XCTAssertTrue("\($0)".contains("resnet51")) }
    }
}

final class ExportTests: XCTestCase {
    /// A float16 copy of a float32 model is half the size, keeps the header, and predicts what the original does.
    func testFloat16ExportLoadsAndPredictsTheSame() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = root.appendingPathComponent("models/default/model.safetensors")
        let original = FileManager.default.temporaryDirectory.appendingPathComponent("export32-\(UUID().uuidString).safetensors")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: copy); try? FileManager.default.removeItem(at: original) }
        try ModelEnsemble.extractMember(0, of: shipped, to: original, dtype: .f32)   // one network of the shipped ensemble, as float32
        var command = try SonoSeg.parseAsRoot(["export", original.path, "--out", copy.path, "--dtype", "f16"])
        try command.run()
        let sizes = try [original, copy].map { try FileManager.default.attributesOfItem(atPath: $0.path)[.size] as! Int }
        XCTAssertLessThan(Double(sizes[1]), 0.55 * Double(sizes[0]))
        let a = try LoadedModel(original), b = try LoadedModel(copy)
        XCTAssertEqual(a.info.recipe, b.info.recipe)
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.normal([1, 1, a.info.preprocess.height, a.info.preprocess.width], rng: &rng)
        let (pa, pb) = (a.probabilities(x), b.probabilities(x))
        var worst: Float = 0
        for (u, v) in zip(pa, pb) { worst = max(worst, abs(u - v)) }
        XCTAssertLessThan(worst, 0.02)
        var bad = try SonoSeg.parseAsRoot(["export", root.appendingPathComponent("README.md").path, "--out", copy.path])
        XCTAssertThrowsError(try bad.run())
    }
}

final class ModelAveragingTests: XCTestCase {
    private let temp = FileManager.default.temporaryDirectory
    private func file(_ name: String) -> URL { temp.appendingPathComponent("\(name)-\(UUID().uuidString).safetensors") }

    /// Two copies of one model, one shifted by 1 everywhere: the average is the original plus 0.5, under the
    /// original header without its metrics.
    func testAverageIsElementwiseMeanUnderTheSharedHeader() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let a = file("avg-a"), b = file("avg-b"), out = file("avg-out"), odd = file("avg-odd")
        defer { for u in [a, b, out, odd] { try? FileManager.default.removeItem(at: u) } }
        try ModelEnsemble.extractMember(0, of: root.appendingPathComponent("models/default/model.safetensors"), to: a, dtype: .f32)
        let (tensors, metadata) = try Safetensors.read(a)
        let shifted = tensors.keys.sorted().map { ($0, Tensor(tensors[$0]!.scalars.map { $0 + 1 }, shape: tensors[$0]!.shape)) }
        try Safetensors.write(shifted, metadata: metadata, to: b)

        var command = try SonoSeg.parseAsRoot(["export", a.path, b.path, "--out", out.path, "--dtype", "f32"])
        try command.run()
        let (averaged, _) = try Safetensors.read(out)
        XCTAssertEqual(Set(averaged.keys), Set(tensors.keys))
        for name in ["unet.dec.0.conv1.weight", "unet.dec.0.norm1.running_var"] {
            let (x, y) = try (XCTUnwrap(averaged[name]).scalars, XCTUnwrap(tensors[name]).scalars)
            for (u, v) in zip(x, y) { XCTAssertEqual(u, v + 0.5, accuracy: 1e-5) }
        }
        let model = try LoadedModel(out)
        XCTAssertTrue(model.info.metrics.isEmpty)
        XCTAssertTrue(model.info.recipe.hasPrefix("average of "))

        // A file missing one tensor is not the same network: refused with the tensor named.
        let missing = shifted.dropFirst().map { $0 }
        try Safetensors.write(missing, metadata: metadata, to: odd)
        XCTAssertThrowsError(try averageModels([a, odd], to: out, dtype: .f32)) { XCTAssertTrue("\($0)".contains(shifted[0].0)) }
        // A different preprocessing size is refused too.
        var info = try JSONDecoder().decode(ModelInfo.self, from: Data(metadata["sonoseg.model"]!.utf8))
        info.preprocess.width *= 2
        try Safetensors.write(shifted, metadata: ["sonoseg.model": String(decoding: try JSONEncoder().encode(info), as: UTF8.self)], to: odd)
        XCTAssertThrowsError(try averageModels([a, odd], to: out, dtype: .f32)) { XCTAssertTrue("\($0)".contains("not the same network")) }
    }
}
