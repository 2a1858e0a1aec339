import XCTest
@testable import SonoONNX

/// The wire format against known bytes: the examples of protobuf's encoding guide
/// (protobuf.dev/programming-guides/encoding) and a tiny ONNX message.
final class ProtobufWriterTests: XCTestCase {
    func testVarintStringNestedAndPacked() {
        var w = ProtobufWriter()
        w.int32(1, 150)                                   // Test1 { a: 150 }
        XCTAssertEqual(w.bytes, [0x08, 0x96, 0x01])

        w = ProtobufWriter()
        w.string(2, "testing")                            // Test2 { b: "testing" }
        XCTAssertEqual(w.bytes, [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67])

        w = ProtobufWriter()
        w.message(3) { $0.int32(1, 150) }                 // Test3 { c: { a: 150 } }
        XCTAssertEqual(w.bytes, [0x1a, 0x03, 0x08, 0x96, 0x01])

        w = ProtobufWriter()
        w.packedInt64(4, [3, 270, 86942])                 // Test4 { d: [3, 270, 86942] } packed
        XCTAssertEqual(w.bytes, [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05])
    }

    func testNegativeFloatAndPackedFloat() {
        var w = ProtobufWriter()
        w.int64(1, -1)                                    // ten bytes, two's complement
        XCTAssertEqual(w.bytes, [0x08] + [UInt8](repeating: 0xff, count: 9) + [0x01])

        w = ProtobufWriter()
        w.float(2, 1)                                     // fixed32, little endian
        XCTAssertEqual(w.bytes, [0x15, 0x00, 0x00, 0x80, 0x3f])

        w = ProtobufWriter()
        w.packedFloat(4, [1, -2])
        XCTAssertEqual(w.bytes, [0x22, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0])
    }

    func testONNXAttributeAndTensor() {
        var w = ProtobufWriter()
        ONNXAttribute.ints("strides", [2, 2]).encode(&w)
        // name "strides" (field 1), ints packed (field 8), type INTS = 7 (field 20: tag 0xa0 0x01)
        XCTAssertEqual(w.bytes, [0x0a, 0x07] + Array("strides".utf8) + [0x42, 0x02, 0x02, 0x02, 0xa0, 0x01, 0x07])

        w = ProtobufWriter()
        ONNXTensor(name: "s", dims: [1], floats: [0.5]).encode(&w)
        // dims [1], data_type FLOAT, name "s", raw_data 0.5f
        XCTAssertEqual(w.bytes, [0x0a, 0x01, 0x01, 0x10, 0x01, 0x42, 0x01, 0x73, 0x4a, 0x04, 0x00, 0x00, 0x00, 0x3f])
    }
}
