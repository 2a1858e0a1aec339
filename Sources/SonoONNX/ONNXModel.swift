/// The parts of ONNX's `onnx.proto` (IR version 8, opset 17) that SonoSeg's exports use, with their field
/// numbers, serialised by `ProtobufWriter`. Field numbers: github.com/onnx/onnx, onnx/onnx.proto.
public enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, float16 = 10
}

/// TensorProto: an initializer (weights) with its raw little-endian bytes.
public struct ONNXTensor {
    public var name: String
    public var dims: [Int]
    public var dataType: ONNXDataType
    public var raw: [UInt8]

    public init(name: String, dims: [Int], floats: [Float]) {
        precondition(dims.reduce(1, *) == floats.count, "ONNX tensor \(name): \(floats.count) values for dims \(dims)")
        (self.name, self.dims, dataType) = (name, dims, .float)
        var raw = [UInt8](); raw.reserveCapacity(floats.count * 4)
        for f in floats { let b = f.bitPattern; raw += [UInt8(b & 0xff), UInt8(b >> 8 & 0xff), UInt8(b >> 16 & 0xff), UInt8(b >> 24)] }
        self.raw = raw
    }

    /// Half precision (IEEE binary16), rounded to nearest.
    public init(name: String, dims: [Int], halves floats: [Float]) {
        precondition(dims.reduce(1, *) == floats.count, "ONNX tensor \(name): \(floats.count) values for dims \(dims)")
        (self.name, self.dims, dataType) = (name, dims, .float16)
        var raw = [UInt8](); raw.reserveCapacity(floats.count * 2)
        for f in floats { let b = Float16(f).bitPattern; raw += [UInt8(b & 0xff), UInt8(b >> 8)] }
        self.raw = raw
    }

    public init(name: String, dims: [Int], int64s: [Int64]) {
        (self.name, self.dims, dataType) = (name, dims, .int64)
        var raw = [UInt8](); raw.reserveCapacity(int64s.count * 8)
        for v in int64s { let b = UInt64(bitPattern: v); for k in 0..<8 { raw.append(UInt8(b >> (8 * UInt64(k)) & 0xff)) } }
        self.raw = raw
    }

    func encode(_ w: inout ProtobufWriter) {
        w.packedInt64(1, dims.map(Int64.init))       // dims
        w.int32(2, dataType.rawValue)                 // data_type
        w.string(8, name)                             // name
        w.bytes(9, raw)                               // raw_data
    }
}

/// AttributeProto, the kinds SonoSeg's graphs need.
public struct ONNXAttribute {
    public enum Value { case int(Int), ints([Int]), float(Float), string(String) }
    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) { (self.name, self.value) = (name, value) }
    public static func int(_ name: String, _ v: Int) -> ONNXAttribute { .init(name, .int(v)) }
    public static func ints(_ name: String, _ v: [Int]) -> ONNXAttribute { .init(name, .ints(v)) }
    public static func float(_ name: String, _ v: Float) -> ONNXAttribute { .init(name, .float(v)) }

    func encode(_ w: inout ProtobufWriter) {
        w.string(1, name)
        // AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7 (field 20).
        switch value {
        case let .float(f): w.float(2, f); w.int32(20, 1)
        case let .int(i): w.int64(3, Int64(i)); w.int32(20, 2)
        case let .string(s): w.string(4, s); w.int32(20, 3)
        case let .ints(v): w.packedInt64(8, v.map(Int64.init)); w.int32(20, 7)
        }
    }
}

/// NodeProto.
public struct ONNXNode {
    public var opType: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [ONNXAttribute]

    func encode(_ w: inout ProtobufWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        w.string(3, name)
        w.string(4, opType)
        for a in attributes { w.message(5) { a.encode(&$0) } }
    }
}

/// ValueInfoProto of a float tensor; a dimension is a number or a symbolic name ("N").
public struct ONNXValueInfo {
    public enum Dim { case value(Int), param(String) }
    public var name: String
    public var elementType: ONNXDataType
    public var shape: [Dim]
    public var doc: String

    public init(name: String, elementType: ONNXDataType = .float, shape: [Dim], doc: String = "") {
        (self.name, self.elementType, self.shape, self.doc) = (name, elementType, shape, doc)
    }

    func encode(_ w: inout ProtobufWriter) {
        w.string(1, name)
        w.message(2) { type in                                   // TypeProto
            type.message(1) { tensor in                          // TypeProto.Tensor
                tensor.int32(1, elementType.rawValue)
                tensor.message(2) { shapeProto in                // TensorShapeProto
                    for d in shape {
                        shapeProto.message(1) { dim in           // Dimension
                            switch d {
                            case let .value(v): dim.int64(1, Int64(v))
                            case let .param(p): dim.string(2, p)
                            }
                        }
                    }
                }
            }
        }
        if !doc.isEmpty { w.string(3, doc) }
    }
}

/// ModelProto with one GraphProto.
public struct ONNXModel {
    public static let irVersion: Int64 = 8
    public static let opset: Int64 = 17

    public var graphName: String
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    public var metadata: [(String, String)] = []
    public var producerVersion: String
    public var doc: String

    public init(graphName: String, producerVersion: String, doc: String = "") {
        (self.graphName, self.producerVersion, self.doc) = (graphName, producerVersion, doc)
    }

    public func serialized() -> [UInt8] {
        var w = ProtobufWriter()
        w.int64(1, Self.irVersion)                       // ir_version
        w.string(2, "SonoSeg")                           // producer_name
        w.string(3, producerVersion)                     // producer_version
        if !doc.isEmpty { w.string(6, doc) }             // doc_string
        w.message(7) { g in                              // graph
            for n in nodes { g.message(1) { n.encode(&$0) } }
            g.string(2, graphName)
            for t in initializers { g.message(5) { t.encode(&$0) } }
            for i in inputs { g.message(11) { i.encode(&$0) } }
            for o in outputs { g.message(12) { o.encode(&$0) } }
        }
        w.message(8) { op in op.string(1, ""); op.int64(2, Self.opset) }   // opset_import: the default domain
        for (k, v) in metadata { w.message(14) { $0.string(1, k); $0.string(2, v) } }   // metadata_props
        return w.bytes
    }
}

/// Builds a graph node by node with unique tensor names.
public struct ONNXGraphBuilder {
    public var model: ONNXModel
    /// Weights stored as float16 with a Cast back to float in front of the node that reads them.
    public var halfWeights: Bool
    var counter = 0

    public init(model: ONNXModel, halfWeights: Bool = false) { (self.model, self.halfWeights) = (model, halfWeights) }

    mutating func fresh(_ hint: String) -> String { counter += 1; return "\(hint)_\(counter)" }

    /// A float weight: as float, or as float16 plus a Cast node (ONNX Runtime folds the Cast at load).
    public mutating func weight(_ name: String, _ values: [Float], dims: [Int]) -> String {
        guard halfWeights else {
            model.initializers.append(ONNXTensor(name: name, dims: dims, floats: values))
            return name
        }
        model.initializers.append(ONNXTensor(name: name + "_f16", dims: dims, halves: values))
        return node("Cast", [name + "_f16"], [.int("to", Int(ONNXDataType.float.rawValue))], name: name)
    }

    /// A small constant kept in float32 even with `halfWeights` (scales, shapes).
    public mutating func constant(_ name: String, _ values: [Float], dims: [Int]) -> String {
        model.initializers.append(ONNXTensor(name: name, dims: dims, floats: values)); return name
    }

    public mutating func constant(_ name: String, int64s: [Int64], dims: [Int]) -> String {
        model.initializers.append(ONNXTensor(name: name, dims: dims, int64s: int64s)); return name
    }

    /// Appends a node with one output and returns the output's name (`name`, or a fresh one from the op).
    @discardableResult
    public mutating func node(_ op: String, _ inputs: [String], _ attributes: [ONNXAttribute] = [], name: String? = nil) -> String {
        let out = name ?? fresh(op.lowercased())
        model.nodes.append(ONNXNode(opType: op, name: "\(op)_\(out)", inputs: inputs, outputs: [out], attributes: attributes))
        return out
    }
}
