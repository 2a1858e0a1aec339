@testable import SonoConvNets
import SonoRegistry
import Foundation
import SonoBase
import SonoNN
import SonoTensor
import XCTest
@testable import SonoPipeline

/// A number that stopped being one is an error where it appears, never a silent "no lesion" or a run that
/// trains on NaN to the end.
final class NonFiniteTests: XCTestCase {
    func testADivergingRunStopsAtItsFirstNonFiniteLoss() throws { try withDiscRun(count: 12, size: 32) { data, run in
        // A recipe cannot ask for a rate that diverges (the largest allowed is 10, and batch norm keeps even that
        // finite), so the network is poisoned directly: NaN output weights make the first loss NaN.
        let c = tinyConfig(data: data, epochs: 3)
        let training = try UNetTraining(c, data: try TrainingData.prepare(c, runFolder: run), folder: run)
        // The output layer's weights: no ReLU after it (a max with NaN may drop it, depending on the ISA's kernel).
        let weight = try XCTUnwrap(training.model.namedParameters().last { $0.0.hasSuffix("weight") }?.1)
        weight.assign(Tensor([Float](repeating: .nan, count: weight.count), shape: weight.shape))
        XCTAssertThrowsError(try runEpochs(training, plan: RunPlan(c.settings), run: RunFolder(run), resume: false, stopAfter: nil,
                                           hasTestImages: false, quiet: true, log: { _ in })) { error in
            XCTAssertTrue("\(error)".hasPrefix("training diverged: the loss is nan at step 1 (epoch 1)"), "\(error)")
        }
        XCTAssertTrue(RunLog.read(RunFolder(run).log).isEmpty, "no epoch after the divergence may be logged")
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunFolder(run).last.path), "no checkpoint of NaN weights")
    } }

    func testAModelWithNaNWeightsOrANegativeVarianceIsRefused() throws { try withDiscRun(count: 12, size: 32) { data, run in
        _ = try train(tinyConfig(data: data, epochs: 1), folder: run, quiet: true, log: { _ in })
        let good = RunFolder(run).best
        XCTAssertNoThrow(try LoadedModel(good))
        let (tensors, metadata) = try Safetensors.read(good)
        let weight = try XCTUnwrap(tensors.keys.sorted().first { $0.hasSuffix("weight") })
        let variance = try XCTUnwrap(tensors.keys.sorted().first { $0.hasSuffix("running_var") })
        for (name, value) in [(weight, Float.nan), (variance, -1)] {
            var damaged = tensors
            var values = tensors[name]!.scalars
            values[0] = value
            damaged[name] = Tensor(values, shape: tensors[name]!.shape)
            let file = run.appendingPathComponent("damaged.safetensors")
            try Safetensors.write(damaged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, to: file)
            XCTAssertThrowsError(try LoadedModel(file)) { error in
                XCTAssertTrue("\(error)".contains(file.path) && "\(error)".contains("unusable weights: tensor '\(name)'"), "\(error)")
            }
        }
    } }
}

/// Two writers into one output folder would lose each other's summary rows; the second is refused instead.
final class FolderLockTests: XCTestCase {
    func testASecondWriterIntoALockedFolderIsRefusedUntilTheFirstEnds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locked-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var first: FolderLock? = try FolderLock(folder, purpose: "segmenting")
        XCTAssertThrowsError(try FolderLock(folder, purpose: "segmenting")) { error in
            XCTAssertTrue("\(error)".hasPrefix(folder.path) && "\(error)".contains("another sonoseg process is segmenting"), "\(error)")
        }
        XCTAssertThrowsError(try segment([folder.appendingPathComponent("x.png")], model: try loadSegmenter(try DefaultModel.locate()),
                                         options: SegmentOptions(), out: folder, log: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("another sonoseg process"), "\(error)")
        }
        withExtendedLifetime(first) {}
        first = nil
        XCTAssertNoThrow(try FolderLock(folder, purpose: "segmenting"))
    }

    /// An output folder that cannot be made says why in words, not as "NSCocoaErrorDomain error 512".
    func testAFileInTheWayOfAnOutputFolderIsNamed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("in-the-way-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try FolderLock(file.appendingPathComponent("out"), purpose: "segmenting")) { error in
            XCTAssertEqual("\(error)", "\(file.path)/out: cannot write ('\(file.path)' is a file, not a folder)")
        }
    }
}

/// Values no network can be built from are errors naming the file, the key, the value and the allowed range,
/// whether they come from a model header or a recipe.
final class ValueRangeTests: XCTestCase {
    func testBadModelHeadersAndRecipeValuesAreNamedErrors() throws {
        let model = try DefaultModel.locate()
        let (tensors, metadata) = try Safetensors.read(model)
        let json = try XCTUnwrap(metadata["sonoseg.ensemble"])
        let member = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["members"] as? [[String: Any]])[0]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ranges-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let own = tensors.filter { $0.key.hasPrefix("m0.") }.map { (String($0.key.dropFirst(3)), $0.value) }.sorted { $0.0 < $1.0 }
        for (path, value, message) in [(["preprocess", "width"], -128, "preprocess.width is -128; allowed: 8-4096"),
                                       // The header's own key names (unet.…), not the recipe's (model.…).
                                       (["unet", "depth"], -1, "unet.depth is -1; allowed: 1-7"),
                                       (["unet", "baseChannels"], 0, "unet.baseChannels is 0; allowed: 1-512"),
                                       (["preprocess", "width"], 100, "must be divisible by 2^unet.depth")] as [([String], Int, String)] {
            var info = member
            var inner = info[path[0]] as! [String: Any]
            inner[path[1]] = value
            info[path[0]] = inner
            let file = folder.appendingPathComponent("bad.safetensors")
            let header = String(decoding: try JSONSerialization.data(withJSONObject: info), as: UTF8.self)
            try Safetensors.write(own, metadata: ["sonoseg.model": header], to: file)
            XCTAssertThrowsError(try LoadedModel(file)) { error in
                XCTAssertTrue("\(error)".hasPrefix(file.path) && "\(error)".contains(message), "\(error)")
            }
        }
        var c = TrainConfig()
        c.data = [DataSource(path: "x")]
        for (change, message) in [({ (c: inout TrainConfig) in c.model.baseChannels = -8 }, "model.baseChannels is -8"),
                                  ({ $0.model.classes = 0 }, "model.classes is 0"),
                                  ({ $0.optimizer.learningRate = 1e30 }, "optimizer.learningRate is 1e+30"),
                                  ({ $0.earlyStoppingPatience = -1 }, "earlyStoppingPatience is -1"),
                                  ({ $0.augmentation.rotationProbability = 2 }, "augmentation.rotationProbability is 2.0"),
                                  ({ $0.model.dropout = 2 }, "model.dropout is 2.0")] as [((inout TrainConfig) -> Void, String)] {
            var bad = c
            change(&bad)
            XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }
}

/// What a dataset reader leaves out is said when a run starts, not dropped in silence.
final class LeftOutFilesTests: XCTestCase {
    func testAnImageWithoutItsMaskIsReported() throws { try withDiscRun(count: 10, size: 32) { data, run in
        try Data(contentsOf: data.appendingPathComponent("images/case0.png")).write(to: data.appendingPathComponent("images/orphan.png"))
        var lines: [String] = []
        _ = try TrainingData.prepare(tinyConfig(data: data, epochs: 1), runFolder: run, log: { lines.append($0) })
        XCTAssertTrue(lines.contains { $0.contains("1 × imageWithoutMask") && $0.contains("orphan") }, lines.joined(separator: "\n"))
    } }
}
