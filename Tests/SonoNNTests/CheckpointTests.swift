import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

final class CheckpointTests: XCTestCase {
    func makeMLP(seed: UInt64, hidden: Int = 8) -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return Sequential([Linear(inputFeatures: 3, outputFeatures: hidden, rng: &rng), Lambda { $0.relu() },
                           Linear(inputFeatures: hidden, outputFeatures: 2, rng: &rng)])
    }

    func testLoadStateDictStrictAndLenient() throws {
        let source = makeMLP(seed: 1), target = makeMLP(seed: 2)
        try target.load(stateDict: source.stateDict())
        XCTAssertEqual(target.namedParameters().map { $0.1.scalars }, source.namedParameters().map { $0.1.scalars })
        let weight = target.namedParameters()[0].1
        XCTAssertTrue(weight === (target.layers[0] as! Linear).weight, "loading keeps tensor identity")

        var partial = Dictionary(uniqueKeysWithValues: makeMLP(seed: 3).stateDict())
        partial["2.bias"] = nil
        partial["head.extra"] = Tensor(1)
        assertThrows(["missing keys: 2.bias", "unexpected keys: head.extra"]) { try target.load(stateDict: partial) }
        XCTAssertEqual(target.namedParameters().map { $0.1.scalars }, source.namedParameters().map { $0.1.scalars },
                       "a failed load changes nothing")
        let report = try target.load(stateDict: partial, strict: false)
        XCTAssertEqual(report, StateDictReport(missing: ["2.bias"], unexpected: ["head.extra"]))
        XCTAssertEqual(target.namedParameters()[0].1.scalars, partial["0.weight"]!.scalars)

        let wider = makeMLP(seed: 4, hidden: 5).stateDict()
        assertThrows(["'0.weight': model has shape [8, 3], state dict [5, 3]", "'2.weight'"]) {
            try target.load(stateDict: wider, strict: false)
        }
    }

    func testCheckpointIsAPlainSafetensorsFile() throws {
        let url = try temporaryFolder(self).appendingPathComponent("ckpt.safetensors")
        let net = makeMLP(seed: 1), opt = SGD(momentum: 0.9)
        let params = net.namedParameters()
        for (_, p) in params { p.grad = Tensor.ones(p.shape) }
        opt.update(params, learningRate: 0.1)
        try Checkpoint.save(model: net, optimizer: opt, extra: ["epoch": 2], to: url)
        let (tensors, metadata) = try Safetensors.read(url)
        XCTAssertEqual(Set(tensors.keys), Set(params.map { "model." + $0.0 } + params.map { "optimizer." + $0.0 + ".momentum_buffer" }))
        XCTAssertEqual(metadata["format"], "sonoseg.checkpoint/1")
        XCTAssertEqual(metadata["optimizer"], "SGD")
        XCTAssertEqual(metadata["optimizer.momentum"].flatMap(Double.init), Double(Float(0.9)))
        XCTAssertEqual(metadata["extra"], #"{"epoch":2}"#)
        XCTAssertEqual(try Checkpoint.load(model: makeMLP(seed: 5), optimizer: SGD(momentum: 0.9), extra: [String: Int].self, from: url),
                       ["epoch": 2])
    }

    func testLoadRefusesMismatchesAndChangesNothing() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("ckpt.safetensors")
        try Checkpoint.save(model: makeMLP(seed: 1), optimizer: Adam(), to: url)

        let net = makeMLP(seed: 2)
        let before = net.stateDict().map { $0.1.scalars }
        assertThrows(["ckpt.safetensors", "saved by Adam, loading into SGD"]) { try Checkpoint.load(model: net, optimizer: SGD(), from: url) }
        assertThrows(["ckpt.safetensors", "beta1"]) { try Checkpoint.load(model: net, optimizer: Adam(beta1: 0.5), from: url) }
        assertThrows(["ckpt.safetensors", "model does not match", "0.weight"]) {
            try Checkpoint.load(model: makeMLP(seed: 2, hidden: 4), optimizer: Adam(), from: url)
        }
        XCTAssertEqual(net.stateDict().map { $0.1.scalars }, before)

        let weightsOnly = folder.appendingPathComponent("weights.safetensors")
        try Checkpoint.save(model: makeMLP(seed: 1), to: weightsOnly)
        assertThrows(["weights.safetensors", "no optimizer state"]) { try Checkpoint.load(model: net, optimizer: Adam(), from: weightsOnly) }
        try Checkpoint.load(model: net, from: weightsOnly)
        XCTAssertEqual(net.stateDict().map { $0.1.scalars }, makeMLP(seed: 1).stateDict().map { $0.1.scalars })

        let plain = folder.appendingPathComponent("plain.safetensors")
        try Safetensors.write(makeMLP(seed: 1).stateDict(), to: plain)
        assertThrows(["plain.safetensors", "not a SonoSeg checkpoint"]) { try Checkpoint.load(model: net, from: plain) }
    }

    func testSaveOverwritesAtomically() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("last.safetensors")
        try Checkpoint.save(model: makeMLP(seed: 1), optimizer: Adam(), extra: ["step": 1], to: url)
        try Checkpoint.save(model: makeMLP(seed: 2), optimizer: Adam(), extra: ["step": 2], to: url)
        let net = makeMLP(seed: 9)
        XCTAssertEqual(try Checkpoint.load(model: net, optimizer: Adam(), extra: [String: Int].self, from: url), ["step": 2])
        XCTAssertEqual(net.stateDict().map { $0.1.scalars }, makeMLP(seed: 2).stateDict().map { $0.1.scalars })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["last.safetensors"], "no temporaries left")
    }
}
