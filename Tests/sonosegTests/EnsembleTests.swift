import SonoConvNets
import SonoRegistry
import XCTest
import Foundation
import SonoImaging
import SonoPipeline
@testable import sonoseg
import SonoNN
import SonoTensor

/// `sonoseg export --ensemble`: several U-Nets in one file whose probabilities `segment` and `evaluate` average.
final class EnsembleTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ensemble-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// The shipped ensemble's first network as float32, and a second member that reads the same image at 96 px
    /// with its weights scaled, so the two predict different maps at different input sizes.
    private func twoMembers() throws -> (URL, URL) {
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        try ModelEnsemble.extractMember(0, of: root.appendingPathComponent("models/default/model.safetensors"), to: a, dtype: .f32)
        let (tensors, metadata) = try Safetensors.read(a)
        var info = try JSONDecoder().decode(ModelInfo.self, from: Data(metadata["sonoseg.model"]!.utf8))
        (info.preprocess.width, info.preprocess.height) = (96, 96)
        let head = "unet.head.weight"
        let changed = tensors.keys.sorted().map { name in
            (name, name == head ? Tensor(tensors[name]!.scalars.map { $0 * 0.5 }, shape: tensors[name]!.shape) : tensors[name]!)
        }
        XCTAssertNotNil(tensors[head], "the U-Net's 1x1 head is named \(head)")
        try Safetensors.write(changed, metadata: ["sonoseg.model": String(decoding: try JSONEncoder().encode(info), as: UTF8.self)], to: b)
        return (a, b)
    }

    private func image() -> GrayImage {
        let (w, h) = (150, 110)
        return GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { i in
            let (x, y) = (Float(i % w) - 70, Float(i / w) - 60)
            return x * x / 900 + y * y / 400 < 1 ? 0.15 : 0.6 + 0.2 * sin(Float(i) * 0.37)
        })
    }

    func testEnsemblePredictsTheMeanOfItsMembersAtTheImagesSize() throws {
        let (a, b) = try twoMembers()
        let out = dir.appendingPathComponent("ens.safetensors")
        var command = try SonoSeg.parseAsRoot(["export", a.path, b.path, "--ensemble", "--dtype", "f32", "--out", out.path])
        try command.run()
        let ensemble = try XCTUnwrap(try loadSegmenter(out) as? ModelEnsemble)
        XCTAssertEqual(ensemble.members.count, 2)
        XCTAssertEqual(ensemble.members.map(\.info.preprocess.width), [128, 96])
        XCTAssertTrue(ensemble.name.hasPrefix("ensemble of "))

        let img = image()
        let pa = try XCTUnwrap(try LoadedModel(a).predict(image: img).lesion)
        let pb = try XCTUnwrap(try LoadedModel(b).predict(image: img).lesion)
        let pe = try XCTUnwrap(try ensemble.predict(image: img, flipTTA: false).lesion)
        XCTAssertEqual([pe.width, pe.height], [150, 110])
        var differ: Float = 0, worst: Float = 0
        for i in pe.pixels.indices {
            differ = max(differ, abs(pa.pixels[i] - pb.pixels[i]))
            worst = max(worst, abs(pe.pixels[i] - (pa.pixels[i] + pb.pixels[i]) / 2))
        }
        XCTAssertGreaterThan(differ, 0.01, "the two members should disagree somewhere")
        XCTAssertLessThan(worst, 1e-5)

        // `segment` reads the ensemble file like any model.
        let png = dir.appendingPathComponent("scan.png"), masks = dir.appendingPathComponent("out")
        try ImageIO.writePNG(img, to: png)
        var seg = try SonoSeg.parseAsRoot(["segment", png.path, "--model", out.path, "--out", masks.path])
        try seg.run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: masks.appendingPathComponent("scan_mask.png").path))
    }

    func testEnsembleFilesAreRefusedWhereOneNetworkIsNeededAndBadInputsNamed() throws {
        let (a, b) = try twoMembers()
        let out = dir.appendingPathComponent("ens.safetensors")
        try ModelEnsemble.write([a, b], to: out, dtype: .f16)
        XCTAssertThrowsError(try LoadedModel(out)) { XCTAssertTrue("\($0)".contains(out.path) && "\($0)".contains("ensemble of 2"), "\($0)") }
        XCTAssertThrowsError(try ModelEnsemble.write([a], to: out, dtype: .f16)) { XCTAssertTrue("\($0)".contains("at least two"), "\($0)") }
        XCTAssertThrowsError(try ModelEnsemble.write([a, out], to: out, dtype: .f16)) { XCTAssertTrue("\($0)".contains("already an ensemble"), "\($0)") }

        // Members must share the threshold the ensemble applies.
        let (tensors, metadata) = try Safetensors.read(b)
        var info = try JSONDecoder().decode(ModelInfo.self, from: Data(metadata["sonoseg.model"]!.utf8))
        info.threshold = 0.3
        let odd = dir.appendingPathComponent("odd.safetensors")
        try Safetensors.write(tensors.keys.sorted().map { ($0, tensors[$0]!) },
                              metadata: ["sonoseg.model": String(decoding: try JSONEncoder().encode(info), as: UTF8.self)], to: odd)
        XCTAssertThrowsError(try ModelEnsemble.write([a, odd], to: out, dtype: .f16)) { XCTAssertTrue("\($0)".contains("threshold"), "\($0)") }

        // A tensor outside every member's prefix means the file is not what its header says.
        let (ens, header) = try Safetensors.read(out)
        let stray = dir.appendingPathComponent("stray.safetensors")
        try Safetensors.write(ens.keys.sorted().map { ($0, ens[$0]!) } + [("m2.extra", Tensor([1], shape: [1]))], metadata: header, to: stray)
        XCTAssertThrowsError(try loadSegmenter(stray)) { XCTAssertTrue("\($0)".contains("m2.extra"), "\($0)") }
    }

    /// `export --member N` writes one network of an ensemble as a model of its own that predicts what that
    /// member does inside the ensemble; a member that does not exist, or a file that is no ensemble, is named.
    func testMemberOfAnEnsembleIsWrittenAsItsOwnModel() throws {
        let shipped = root.appendingPathComponent("models/default/model.safetensors")
        let ensemble = try XCTUnwrap(try loadSegmenter(shipped) as? ModelEnsemble, "the shipped default model is an ensemble")
        XCTAssertEqual(ensemble.members.count, 2)
        let one = dir.appendingPathComponent("member1.safetensors")
        var command = try SonoSeg.parseAsRoot(["export", shipped.path, "--member", "1", "--dtype", "f32", "--out", one.path])
        try command.run()
        let single = try LoadedModel(one)
        XCTAssertEqual(single.info, ensemble.members[1].info)
        let img = image()
        let ps = try XCTUnwrap(try single.predict(image: img).lesion), pm = try XCTUnwrap(try ensemble.members[1].predict(image: img).lesion)
        var worst: Float = 0
        for i in ps.pixels.indices { worst = max(worst, abs(ps.pixels[i] - pm.pixels[i])) }
        XCTAssertLessThan(worst, 1e-5)

        XCTAssertThrowsError(try ModelEnsemble.extractMember(2, of: shipped, to: one, dtype: .f16)) {
            XCTAssertTrue("\($0)".contains("no member 2") && "\($0)".contains(shipped.path), "\($0)")
        }
        XCTAssertThrowsError(try ModelEnsemble.extractMember(0, of: one, to: dir.appendingPathComponent("x.safetensors"), dtype: .f16)) {
            XCTAssertTrue("\($0)".contains("not an ensemble") && "\($0)".contains(one.path), "\($0)")
        }
        let broken = dir.appendingPathComponent("broken.safetensors")
        try Safetensors.write([("m0.x", Tensor([1], shape: [1]))], metadata: ["sonoseg.ensemble": "{"], to: broken)
        XCTAssertThrowsError(try ModelEnsemble.extractMember(0, of: broken, to: one, dtype: .f16)) {
            XCTAssertTrue("\($0)".contains("unreadable ensemble description") && "\($0)".contains(broken.path), "\($0)")
        }
        var both = try SonoSeg.parseAsRoot(["export", shipped.path, one.path, "--member", "0", "--out", one.path])
        XCTAssertThrowsError(try both.run()) { XCTAssertTrue("\($0)".contains("--member"), "\($0)") }
    }

    /// An ensemble header as written, so a test can change any of it (the library's own type is internal).
    private struct EnsembleHeader: Codable {
        var format: String
        var members: [ModelInfo]
        var threshold: Float
        var recipe: String
    }

    /// The shipped ensemble with `edit` applied to its header, written to `name`.safetensors.
    private func shippedEnsemble(_ name: String, _ edit: (inout EnsembleHeader) -> Void) throws -> URL {
        let (tensors, metadata) = try Safetensors.read(root.appendingPathComponent("models/default/model.safetensors"))
        var header = try JSONDecoder().decode(EnsembleHeader.self, from: Data(metadata["sonoseg.ensemble"]!.utf8))
        edit(&header)
        let url = dir.appendingPathComponent(name + ".safetensors")
        try Safetensors.write(tensors.keys.sorted().map { ($0, tensors[$0]!) },
                              metadata: ["sonoseg.ensemble": String(decoding: try JSONEncoder().encode(header), as: UTF8.self)], to: url)
        return url
    }

    /// Issue 28, item 7: an ensemble member's header passes the same checks as a single model's, before any
    /// network is built. These values crashed (baseChannels 0, depth -1, width 0 or 100: a precondition; width
    /// 2^40: an allocation abort), grew past 11 GB (depth 99) or were taken as they came (an unknown
    /// architecture or format, thresholds outside [0, 1]). Each error names the file, the key and the value.
    func testEnsembleMembersAreCheckedLikeSingleModelsBeforeAnythingIsBuilt() throws {
        let cases: [(String, (inout EnsembleHeader) -> Void, String)] = [
            ("base0", { $0.members[1].unet.baseChannels = 0 }, "members[1].unet.baseChannels is 0; allowed: 1-512"),
            ("depth-1", { $0.members[1].unet.depth = -1 }, "members[1].unet.depth is -1; allowed: 1-7"),
            ("depth99", { $0.members[1].unet.depth = 99 }, "members[1].unet.depth is 99; allowed: 1-7"),
            ("width0", { $0.members[1].preprocess.width = 0 }, "members[1].preprocess.width is 0; allowed: 8-4096"),
            ("width100", { $0.members[1].preprocess.width = 100 }, "members[1].preprocess size 100x128 must be divisible by 2^unet.depth = 16"),
            ("width2pow40", { $0.members[0].preprocess.width = 1 << 40 }, "members[0].preprocess.width is 1099511627776; allowed: 8-4096"),
            ("architecture", { $0.members[1].architecture = "unet3plus" }, "members[1].architecture is 'unet3plus'; allowed: unet"),
            ("format", { $0.format = "sonoseg.ensemble/99" }, "format is 'sonoseg.ensemble/99'; allowed: sonoseg.ensemble/1"),
            ("threshold", { $0.threshold = 2 }, "threshold is 2.0; allowed: 0-1"),
            ("memberThreshold", { $0.members[0].threshold = -0.1 }, "members[0].threshold is -0.1; allowed: 0-1"),
            // In range key by key, but the weights alone would be tens of gigabytes: refused with the estimate.
            ("huge", { ($0.members[1].unet.depth, $0.members[1].unet.baseChannels) = (7, 512) }, "members[1]: the network would need about"),
        ]
        for (name, edit, expected) in cases {
            let url = try shippedEnsemble(name, edit)
            XCTAssertThrowsError(try loadSegmenter(url), name) {
                XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains(expected), "\(name): \($0)")
            }
        }
        XCTAssertThrowsError(try loadSegmenter(try shippedEnsemble("huge2", { $0.members[1].unet.baseChannels = 512; $0.members[1].unet.depth = 7 }))) {
            XCTAssertTrue("\($0)".contains("GiB") && "\($0)".contains("allowed: at most 8.0 GiB"), "\($0)")
        }
        XCTAssertNoThrow(try loadSegmenter(try shippedEnsemble("unchanged", { _ in })))

        // A single model's header goes through the same function: the memory bound and the architecture name.
        let (a, _) = try twoMembers()
        let (tensors, metadata) = try Safetensors.read(a)
        for (name, edit, expected) in [
            ("single-huge", { (i: inout ModelInfo) in (i.unet.depth, i.unet.baseChannels, i.preprocess.width, i.preprocess.height) = (6, 512, 2048, 2048) }, "the network would need about"),
            ("single-arch", { (i: inout ModelInfo) in i.architecture = "transunet" }, "architecture is 'transunet'"),
            ("single-format", { (i: inout ModelInfo) in i.format = "sonoseg.model/2" }, "format is 'sonoseg.model/2'"),
        ] {
            var info = try JSONDecoder().decode(ModelInfo.self, from: Data(metadata["sonoseg.model"]!.utf8))
            edit(&info)
            let url = dir.appendingPathComponent(name + ".safetensors")
            try Safetensors.write(tensors.keys.sorted().map { ($0, tensors[$0]!) },
                                  metadata: ["sonoseg.model": String(decoding: try JSONEncoder().encode(info), as: UTF8.self)], to: url)
            XCTAssertThrowsError(try LoadedModel(url), name) { XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains(expected), "\(name): \($0)") }
        }
    }

    /// Issue 28, item 7: `--threshold` is a probability for `segment` and `evaluate` alike.
    func testThresholdOptionOutsideZeroToOneIsRefused() throws {
        for t in ["2", "-0.5", "nan"] {
            XCTAssertThrowsError(try SonoSeg.parseAsRoot(["segment", "scan.png", "--threshold=\(t)"]), t) {
                XCTAssertTrue(SonoSeg.message(for: $0).contains("--threshold must be in [0, 1]"), SonoSeg.message(for: $0))
            }
            XCTAssertThrowsError(try SonoSeg.parseAsRoot(["evaluate", "--data", "d", "--out", "o", "--threshold=\(t)"]), t) {
                XCTAssertTrue(SonoSeg.message(for: $0).contains("--threshold must be in [0, 1]"), SonoSeg.message(for: $0))
            }
        }
        XCTAssertNoThrow(try SonoSeg.parseAsRoot(["segment", "scan.png", "--threshold", "0.3"]))
    }
}
