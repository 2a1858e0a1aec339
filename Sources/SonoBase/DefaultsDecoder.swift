import Foundation

/// A configuration value whose every field a file may leave out: what it leaves out keeps the value `init()`
/// gives. Types conform with synthesised `Codable` and an `init()`; `DefaultsDecoder` does the rest, so each
/// field is written once (its declaration with its default), never again in a hand-written decoder.
public protocol DefaultDecodable: Codable {
    init()
}

/// Decodes JSON with synthesised `Decodable`, filling each `DefaultDecodable` object's missing keys from its
/// own encoded `init()`, at every depth (array elements and optional values included): before decoding such a
/// type, the file's object is laid over the default's encoding, objects key by key, everything else whole.
/// A `null` keeps the default. Integers keep every digit (a seed above 2^53 is not rounded through Double).
public struct DefaultsDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let tree: JSONTree
        do { tree = try JSONDecoder().decode(JSONTree.self, from: data) } catch {
            throw error   // not JSON: JSONDecoder's own message
        }
        return try TreeDecoder(tree: tree, codingPath: []).unbox(T.self)
    }
}

/// JSON as a tree, numbers kept as their widest exact kind.
enum JSONTree: Decodable, Encodable {
    case object([String: JSONTree]), array([JSONTree]), string(String), bool(Bool), int(Int64), uint(UInt64), double(Double), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONTree].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONTree].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .object(o): try c.encode(o)
        case let .array(a): try c.encode(a)
        case let .string(s): try c.encode(s)
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .uint(u): try c.encode(u)
        case let .double(d): try c.encode(d)
        case .null: try c.encodeNil()
        }
    }

    /// `other` over `self`: objects merge key by key, anything else is replaced. A `null` where the default has
    /// a value keeps the default, as a key left out does (what the hand-written decoders did).
    func overlaid(with other: JSONTree) -> JSONTree {
        guard case let .object(a) = self, case let .object(b) = other else { return other }
        var out = a
        for (k, v) in b {
            if case .null = v, let kept = a[k] { out[k] = kept; continue }
            out[k] = a[k].map { $0.overlaid(with: v) } ?? v
        }
        return .object(out)
    }

    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .int, .uint, .double: return "a number"
        case .null: return "null"
        }
    }
}

/// A `Decoder` over a `JSONTree`.
struct TreeDecoder: Decoder {
    let tree: JSONTree
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// `T` from this node: a `DefaultDecodable` object is first laid over `T()`'s encoding.
    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if let defaults = T.self as? any DefaultDecodable.Type, case .object = tree {
            let base = try JSONDecoder().decode(JSONTree.self, from: JSONEncoder().encode(defaults.init()))
            return try T(from: TreeDecoder(tree: base.overlaid(with: tree), codingPath: codingPath))
        }
        return try T(from: self)
    }

    func mismatch<T>(_ type: T.Type) -> DecodingError {
        .typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "expected \(T.self), found \(tree.kind)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(o) = tree else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case let .array(a) = tree else { throw mismatch([Any].self) }
        return Unkeyed(items: a, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(decoder: self) }

    // MARK: scalars

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let value: T?
        switch tree {
        case let .int(i): value = T(exactly: i)
        case let .uint(u): value = T(exactly: u)
        case let .double(d): value = d.isFinite && d == d.rounded() ? T(exactly: d) : nil
        default: throw mismatch(T.self)
        }
        guard let value else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(tree.number) does not fit in \(T.self)"))
        }
        return value
    }

    func floating<T: BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        switch tree {
        case let .int(i): return T(i)
        case let .uint(u): return T(u)
        case let .double(d):
            // a Float from a Double beyond its range is infinite: an error naming the key, as JSONDecoder gives
            guard T(d).isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(d) does not fit in \(T.self)"))
            }
            return T(d)
        default: throw mismatch(T.self)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: TreeDecoder
        var codingPath: [CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { if case .null = decoder.tree { return true } else { return false } }
        func decode(_ type: Bool.Type) throws -> Bool { guard case let .bool(b) = decoder.tree else { throw decoder.mismatch(Bool.self) }; return b }
        func decode(_ type: String.Type) throws -> String { guard case let .string(s) = decoder.tree else { throw decoder.mismatch(String.self) }; return s }
        func decode(_ type: Double.Type) throws -> Double { try decoder.floating(Double.self) }
        func decode(_ type: Float.Type) throws -> Float { try decoder.floating(Float.self) }
        func decode(_ type: Int.Type) throws -> Int { try decoder.integer(Int.self) }
        func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(Int8.self) }
        func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(Int16.self) }
        func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(Int32.self) }
        func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(Int64.self) }
        func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(UInt.self) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(UInt8.self) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(UInt16.self) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(UInt32.self) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(UInt64.self) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(T.self) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: [String: JSONTree]
        var codingPath: [CodingKey]
        var allKeys: [Key] { object.keys.compactMap(Key.init(stringValue:)) }
        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }
        func child(_ key: Key) throws -> TreeDecoder {
            guard let t = object[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'"))
            }
            return TreeDecoder(tree: t, codingPath: codingPath + [key])
        }
        func decodeNil(forKey key: Key) throws -> Bool { if case .null = try child(key).tree { return true } else { return false } }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try Single(decoder: try child(key)).decode(T.self) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Single(decoder: try child(key)).decode(Bool.self) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try Single(decoder: try child(key)).decode(String.self) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Single(decoder: try child(key)).decode(Double.self) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Single(decoder: try child(key)).decode(Float.self) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Single(decoder: try child(key)).decode(Int.self) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Single(decoder: try child(key)).decode(Int64.self) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Single(decoder: try child(key)).decode(UInt64.self) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Single(decoder: try child(key)).decode(Int32.self) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Single(decoder: try child(key)).decode(UInt32.self) }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try child(key).container(keyedBy: N.self)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
        func superDecoder() throws -> Decoder { TreeDecoder(tree: .object(object), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONTree]
        var codingPath: [CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }
        struct Index: CodingKey {
            var intValue: Int?
            var stringValue: String { "\(intValue ?? 0)" }
            init(intValue: Int) { self.intValue = intValue }
            init?(stringValue: String) { nil }
        }
        mutating func next() throws -> TreeDecoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array has \(items.count) elements"))
            }
            defer { currentIndex += 1 }
            return TreeDecoder(tree: items[currentIndex], codingPath: codingPath + [Index(intValue: currentIndex)])
        }
        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = items[currentIndex] else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try Single(decoder: try next()).decode(T.self) }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> { try next().container(keyedBy: N.self) }
        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> Decoder { try next() }
    }
}

extension JSONTree {
    var number: String {
        switch self {
        case let .int(i): return "\(i)"
        case let .uint(u): return "\(u)"
        case let .double(d): return "\(d)"
        default: return kind
        }
    }
}
