import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

final class SafetensorsTests: XCTestCase {
    func sampleTensors() -> [(String, Tensor)] {
        var rng = RandomGenerator(seed: 11)
        return [("enc.0.conv1.weight", Tensor.normal([4, 2, 3, 3], rng: &rng)),
                ("enc.0.conv1.bias", Tensor([0.5, -0.25, 1e-8, -3e7], shape: [4])),
                ("scalar", Tensor(42)),
                ("empty", Tensor.zeros([0, 5]))]
    }

    func testRoundTripF32() throws {
        let url = try temporaryFolder(self).appendingPathComponent("model.safetensors")
        let tensors = sampleTensors()
        try Safetensors.write(tensors, metadata: ["epoch": "3", "note": "ünïcode / ok"], to: url)
        let (read, metadata) = try Safetensors.read(url)
        XCTAssertEqual(metadata, ["epoch": "3", "note": "ünïcode / ok"])
        XCTAssertEqual(Set(read.keys), Set(tensors.map(\.0)))
        for (name, t) in tensors {
            XCTAssertEqual(read[name]?.shape, t.shape, name)
            XCTAssertEqual(read[name]?.scalars, t.scalars, name)  // bit-exact
        }
        // The layout the reference expects: data starts 8-byte aligned after a space-padded header.
        let bytes = try Data(contentsOf: url)
        let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes.count, 8 + n + tensors.reduce(0) { $0 + $1.1.count * 4 })
        // Nothing but the file itself is left in the folder (the temporary was renamed away).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["model.safetensors"])
    }

    func testHalfPrecisionWrite() throws {
        let url = try temporaryFolder(self).appendingPathComponent("small.safetensors")
        // Expected values from PyTorch: torch.tensor(values).half() / .bfloat16(), both round to nearest even.
        let values: [Float] = [1, -2.5, 0.1, 65504, 1e-7, 3.14159]
        for (dtype, expected) in [(Safetensors.Precision.f16, [1, -2.5, 0.0999755859375, 65504, 1.1920928955078125e-07, 3.140625]),
                                  (.bf16, [1, -2.5, 0.10009765625, 65536, 1.0011717677116394e-07, 3.140625])] as [(Safetensors.Precision, [Float])] {
            try Safetensors.write([("w", Tensor(values, shape: [6]))], dtype: dtype, to: url)
            let (read, _) = try Safetensors.read(url)
            XCTAssertEqual(read["w"]?.scalars, expected, dtype.rawValue)
            XCTAssertEqual(try Data(contentsOf: url).count % 8, (6 * 2) % 8, "two bytes per value")
        }
        // A value above F16's 65,504 (a batch norm's running variance) would become infinity: that tensor stays F32.
        for dtype in [Safetensors.Precision.f16, .q8] {
            try Safetensors.write([("running_var", Tensor([1, 70_000], shape: [2]))], dtype: dtype, to: url)
            XCTAssertEqual(try Safetensors.read(url).tensors["running_var"]?.scalars, [1, 70_000], dtype.rawValue)
        }
    }

    /// q8: kernels as I8 with a scale per output channel (error at most half a step of that channel), the
    /// rest as F16; `read` gives Float32 back under the original names only.
    func testQuantizedWriteRoundTripsWithinHalfAStepPerChannel() throws {
        let url = try temporaryFolder(self).appendingPathComponent("q8.safetensors")
        var rng = RandomGenerator(seed: 3)
        var kernel = Tensor.normal([4, 3, 3, 3], rng: &rng).scalars
        for i in 0..<27 { kernel[i] *= 100 }                 // channel 0 far larger than the others
        for i in 54..<81 { kernel[i] = 0 }                   // channel 2 all zero
        let bias: [Float] = [0.1, -2.5, 3.14159, 0]
        try Safetensors.write([("conv.weight", Tensor(kernel, shape: [4, 3, 3, 3])), ("conv.bias", Tensor(bias, shape: [4]))],
                              metadata: ["k": "v"], dtype: .q8, to: url)
        let (read, metadata) = try Safetensors.read(url)
        XCTAssertEqual(metadata, ["k": "v"])
        XCTAssertEqual(Set(read.keys), ["conv.weight", "conv.bias"])
        let w = try XCTUnwrap(read["conv.weight"])
        XCTAssertEqual(w.shape, [4, 3, 3, 3])
        for c in 0..<4 {
            let slice = kernel[(c * 27)..<((c + 1) * 27)]
            let step = slice.reduce(0) { max($0, abs($1)) } / 127
            for i in slice.indices { XCTAssertEqual(w.scalars[i], kernel[i], accuracy: step / 2 + 1e-6, "channel \(c)") }
        }
        XCTAssertEqual(Array(w.scalars[54..<81]), [Float](repeating: 0, count: 27))
        XCTAssertEqual(read["conv.bias"]?.scalars, [0.0999755859375, -2.5, 3.140625, 0])
        let header = try Safetensors.readMetadata(url)
        XCTAssertEqual(header, ["k": "v"])
        // A scale that names no I8 tensor is a broken file, said so.
        try Safetensors.write([("b", Tensor([1, 2], shape: [2])), ("b" + Safetensors.quantizedScaleSuffix, Tensor([1, 1], shape: [2]))], to: url)
        XCTAssertThrowsError(try Safetensors.read(url)) { XCTAssertTrue("\($0)".contains("b.q8_scale"), "\($0)") }
        // A diverged kernel cannot be stored in 8 bits: an error naming it, not a trap.
        XCTAssertThrowsError(try Safetensors.write([("bad.weight", Tensor([1, .nan, 2, 3], shape: [2, 2]))], dtype: .q8, to: url)) {
            XCTAssertTrue("\($0)".contains("bad.weight"), "\($0)")
        }
    }

    /// A file written by Python's `safetensors` (scripts/fixtures/make_safetensors_fixture.py).
    func testReadsReferenceFile() throws {
        let (tensors, metadata) = try Safetensors.read(fixtureURL("reference.safetensors"))
        let expected = try fixtureJSON("reference_expected.json")
        XCTAssertEqual(metadata, expected["metadata"] as? [String: String])
        let want = expected["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), Set(want.keys))
        for (name, w) in want {
            XCTAssertEqual(tensors[name]?.shape, w["shape"] as? [Int], name)
            XCTAssertEqual(tensors[name]?.scalars, floats(w["values"]), name)
        }
        // Spot checks independent of the JSON: F16, BF16 and F64 conversions.
        XCTAssertEqual(tensors["head.weight"]?.scalars[3], 65504)
        XCTAssertEqual(tensors["head.bias"]?.scalars[0], 3.140625)
        XCTAssertEqual(tensors["scale"]!.item, Float(0.123456789012345))
        XCTAssertEqual(tensors["encoder.conv.weight"]?.shape, [2, 3, 2, 2])
    }

    func testCorruptFilesNameTheFile() throws {
        let folder = try temporaryFolder(self)
        let good = folder.appendingPathComponent("good.safetensors")
        try Safetensors.write(sampleTensors(), to: good)
        let bytes = try Data(contentsOf: good)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })

        func file(_ name: String, _ data: Data) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try data.write(to: url)
            return url
        }
        func withHeader(_ json: String, data: Int) -> Data {
            var d = Data(count: 8)
            d.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(json.utf8.count).littleEndian, as: UInt64.self) }
            return d + Data(json.utf8) + Data(count: data)
        }

        let tiny = try file("tiny.safetensors", bytes.prefix(5))
        assertThrows(["tiny.safetensors", "truncated"]) { try Safetensors.read(tiny) }
        let cutHeader = try file("cut-header.safetensors", bytes.prefix(8 + headerLength / 2))
        assertThrows(["cut-header.safetensors", "truncated", "header"]) { try Safetensors.read(cutHeader) }
        let cutData = try file("cut-data.safetensors", bytes.prefix(bytes.count - 10))
        assertThrows(["cut-data.safetensors", "truncated"]) { try Safetensors.read(cutData) }
        let badJSON = try file("bad-json.safetensors", withHeader(#"{"w": {"dtype": "F32", "#, data: 0))
        assertThrows(["bad-json.safetensors", "not valid JSON"]) { try Safetensors.read(badJSON) }
        let notObject = try file("array.safetensors", withHeader("[1, 2]", data: 0))
        assertThrows(["array.safetensors", "not a JSON object"]) { try Safetensors.read(notObject) }
        let range = try file("range.safetensors",
                             withHeader(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}"#, data: 12))
        assertThrows(["range.safetensors", "'w'", "offsets"]) { try Safetensors.read(range) }
        let overlap = try file("overlap.safetensors", withHeader(
            #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: 8))
        assertThrows(["overlap.safetensors", "'b'", "overlap"]) { try Safetensors.read(overlap) }
        let past = try file("past.safetensors", withHeader(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, data: 8))
        assertThrows(["past.safetensors", "'w'", "16"]) { try Safetensors.read(past) }
        let dtype = try file("dtype.safetensors", withHeader(#"{"ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: 8))
        assertThrows(["dtype.safetensors", "'ids'", "I64"]) { try Safetensors.read(dtype) }
        let badMeta = try file("meta.safetensors", withHeader(#"{"__metadata__": {"epoch": 3}}"#, data: 0))
        assertThrows(["meta.safetensors", "__metadata__"]) { try Safetensors.read(badMeta) }
        assertThrows(["missing.safetensors"]) { try Safetensors.read(folder.appendingPathComponent("missing.safetensors")) }
    }

    func testWriteRejectsBadNamesAndLeavesOldFile() throws {
        let url = try temporaryFolder(self).appendingPathComponent("m.safetensors")
        try Safetensors.write([("a", Tensor(1))], to: url)
        assertThrows(["m.safetensors", "'a'", "twice"]) { try Safetensors.write([("a", Tensor(1)), ("a", Tensor(2))], to: url) }
        assertThrows(["__metadata__"]) { try Safetensors.write([("__metadata__", Tensor(1))], to: url) }
        XCTAssertEqual(try Safetensors.read(url).tensors["a"]?.item, 1, "a failed write keeps the old file")
    }
}
