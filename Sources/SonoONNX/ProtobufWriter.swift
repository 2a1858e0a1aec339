/// Protocol Buffers' wire format, the writing half only: enough to serialise an ONNX model without a
/// generated library (swift-protobuf's plugin build costs minutes; ONNX needs five scalar kinds and nesting).
///
/// Fields are written in the order they are called; proto3 readers accept any order and repeated scalars
/// packed or not. Nothing is skipped for being a default value: a caller that wants proto3's "absent when
/// zero" leaves the call out.
public struct ProtobufWriter {
    public enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Base-128 varint, least significant group first.
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(_ field: Int, _ wire: WireType) {
        precondition(field >= 1 && field < (1 << 29), "protobuf field numbers are 1 to 2^29 - 1, got \(field)")
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// int64, int32 and enum fields: a negative value is its 64-bit two's complement (ten bytes), as protobuf
    /// writes int32 too.
    public mutating func int64(_ field: Int, _ value: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    public mutating func int32(_ field: Int, _ value: Int32) { int64(field, Int64(value)) }

    public mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// An embedded message, written by `body` into a writer of its own and then length-prefixed.
    public mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytes(field, inner.bytes)
    }

    /// A repeated int64 field, packed (proto3's default encoding).
    public mutating func packedInt64(_ field: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        bytes(field, inner.bytes)
    }

    /// A repeated float field, packed.
    public mutating func packedFloat(_ field: Int, _ values: [Float]) {
        var inner = ProtobufWriter()
        inner.bytes.reserveCapacity(values.count * 4)
        for v in values { inner.appendLittleEndian(v.bitPattern) }
        bytes(field, inner.bytes)
    }

    mutating func appendLittleEndian(_ v: UInt32) {
        bytes += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)]
    }
}
