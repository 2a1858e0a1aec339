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
        var c = tinyConfig(data: data, epochs: 3)
        c.optimizer.learningRate = 1e30
        XCTAssertThrowsError(try train(c, folder: run, quiet: true, log: { _ in })) { error in
            XCTAssertTrue("\(error)".hasPrefix("training diverged: the loss is "), "\(error)")
            XCTAssertTrue("\(error)".contains("at step "), "\(error)")
        }
        XCTAssertLessThan(RunLog.read(RunFolder(run).log).count, 3, "no epoch after the divergence may be logged")
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
        XCTAssertThrowsError(try segment([folder.appendingPathComponent("x.png")], model: try loadPredictor(try DefaultModel.locate()),
                                         options: SegmentOptions(), out: folder, log: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("another sonoseg process"), "\(error)")
        }
        withExtendedLifetime(first) {}
        first = nil
        XCTAssertNoThrow(try FolderLock(folder, purpose: "segmenting"))
    }
}
