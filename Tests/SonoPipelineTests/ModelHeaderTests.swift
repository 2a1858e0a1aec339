@testable import SonoConvNets
import XCTest
import SonoBase
import SonoModels
import SonoNN
@testable import SonoPipeline
@testable import SonoTools

/// Issue 28, items 7 and 10: the memory a header's network would need is estimated from its sizes alone, and
/// the fuzz harness's model-header target builds the networks of the headers it accepts.
final class ModelHeaderTests: XCTestCase {
    private let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus")

    /// The estimate's weights are within a small factor of the parameters the built network holds (a limit in
    /// gigabytes needs no more), for U-Nets and for the classifier SonoSeg ships.
    func testWeightEstimateIsCloseToTheBuiltNetworksParameterCount() throws {
        var rng = RandomGenerator(seed: 1)
        for (base, depth, up, gates, heads) in [(8, 3, UNetConfig.Upsampling.transposed, false, 0), (16, 4, .bilinear, true, 2), (32, 4, .transposed, false, 0)] {
            var u = UNetConfig()
            (u.baseChannels, u.depth, u.upsampling, u.attentionGates) = (base, depth, up, gates)
            let built = Double(SupervisedUNet(u, heads: heads, rng: &rng).parameterCount)
            let estimate = ModelInfo.unetSize(u, pixels: 128 * 128, heads: heads).weights
            XCTAssertEqual(estimate / built, 1, accuracy: 0.5, "base \(base), depth \(depth): estimate \(estimate), built \(built)")
        }
        let classifier = ClassifyModelConfig().resolved(task: .classify, classes: 2, size: 128)
        let built = Double(TaskNetwork(classifier, rng: &rng).module.parameterCount)
        let estimate = ModelInfo.classifierSize(classifier, pixels: 128 * 128).weights
        XCTAssertEqual(estimate / built, 1, accuracy: 0.5, "resnet18: estimate \(estimate), built \(built)")
    }

    /// The headers that crashed `segment` (issue 28, item 7) are refused by the harness's target, which before
    /// read single-model headers only and built nothing; the valid seeds' networks are built (the ensemble's
    /// two), and a valid header too big for fuzzing is checked but not built.
    func testFuzzModelHeaderTargetChecksThenBuildsTheNetwork() throws {
        let valid = try [UInt8](Data(contentsOf: corpus.appendingPathComponent("model-header.json")))
        XCTAssertEqual(try Fuzzer.buildModels(valid), 1)
        for seed in ["model-header-base-channels-0.json", "model-header-depth-99.json", "model-header-width-2pow40.json",
                     "model-header-ensemble-bad-member.json"] {
            let bytes = try [UInt8](Data(contentsOf: corpus.appendingPathComponent(seed)))
            XCTAssertThrowsError(try Fuzzer.buildModels(bytes), seed) { XCTAssertTrue("\($0)".contains("allowed"), "\(seed): \($0)") }
            XCTAssertFalse(Fuzzer.Target(corpus.appendingPathComponent(seed))!.accept(bytes), seed)
        }
        let (_, metadata) = try Safetensors.read(corpus.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/default/model.safetensors"))
        XCTAssertEqual(try Fuzzer.buildModels(Array(metadata[ModelEnsemble.key]!.utf8)), 2)

        var big = try JSONDecoder().decode(ModelInfo.self, from: Data(valid))
        big.unet.baseChannels = 128
        XCTAssertGreaterThan(4 * big.estimatedSize.weights, Fuzzer.buildLimit)
        XCTAssertLessThan(big.estimatedBytes, ModelInfo.memoryLimit)
        XCTAssertEqual(try Fuzzer.buildModels(Array(try JSONEncoder().encode(big))), 0)
    }

    /// A classifier's header: its class names cut the outputs into rows, so their count must match the head's,
    /// and the architecture must be the classifier's kind; its layer counts are checked like a U-Net's sizes.
    func testClassifierHeadersAreCheckedByTheSameFunction() throws {
        let (_, metadata) = try Safetensors.read(corpus.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/diagnosis/pathology-1.safetensors"))
        let info = try JSONDecoder().decode(ModelInfo.self, from: Data(metadata[ModelInfo.key]!.utf8))
        XCTAssertEqual(info.problems(), [])
        for (edit, expected) in [({ (i: inout ModelInfo) in i.classNames = ["a", "b", "c"] }, "classNames has 3 names; allowed: one per class of the classifier (2)"),
                                 ({ $0.architecture = "unet" }, "architecture is 'unet'; allowed: 'resnet18'"),
                                 ({ $0.classifier!.resnet.classes = 1 << 40 }, "classifier.resnet.classes is 1099511627776; allowed: 0-1000"),
                                 ({ $0.classifier!.resnet.baseWidth = 512; $0.preprocess.width = 4096; $0.preprocess.height = 4096 }, "the network would need about")] as [((inout ModelInfo) -> Void, String)] {
            var bad = info
            edit(&bad)
            XCTAssertTrue(bad.problems().contains { $0.contains(expected) }, "\(bad.problems())")
        }
    }
}
