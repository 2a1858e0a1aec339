import Foundation
import SonoTensor
extension Safetensors {
    /// One tensor's header entry.
    struct Entry {
        let name: String, dtype: DType, shape: [Int], begin: Int, end: Int
    }

    /// Headers larger than this are refused before parsing, as in the reference implementation.
    static let maxHeaderBytes = 100_000_000

    /// Reads every tensor (as Float32) and the string metadata. Checks the file as the reference
    /// implementation does: the header must be a JSON object of well-formed entries whose byte ranges
    /// exactly tile the data section.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError.io(file: file, detail: "cannot read: \(error.localizedDescription)")
        }
        return try read(data, file: file)
    }

    /// The same from bytes in memory; `file` names them in errors.
    public static func read(_ data: Data, file: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try data.withUnsafeBytes { raw in
            let (entries, metadata, dataStart) = try parseHeader(raw, file: file)
            var tensors: [String: Tensor] = [:]
            for e in entries {
                tensors[e.name] = decode(e, UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)]))
            }
            try dequantize(&tensors, entries: entries, file: file)
            return (tensors, metadata)
        }
    }

    /// The string metadata alone (the header is validated; tensor data is not decoded): enough to tell which
    /// kind of model a file holds.
    public static func readMetadata(_ url: URL) throws -> [String: String] {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError.io(file: file, detail: "cannot read: \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { try parseHeader($0, file: file).1 }
    }

    /// Parses and validates the header; returns the entries sorted by offset, the metadata and where the
    /// data section starts.
    static func parseHeader(_ raw: UnsafeRawBufferPointer, file: String) throws -> ([Entry], [String: String], Int) {
        guard raw.count >= 8 else {
            throw SafetensorsError.truncated(file: file, detail: "\(raw.count) bytes, shorter than the 8-byte header length")
        }
        let announced = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard announced <= UInt64(maxHeaderBytes) else {
            throw SafetensorsError.invalidHeader(file: file, detail: "announced header length \(announced) exceeds \(maxHeaderBytes) bytes")
        }
        let n = Int(announced)
        guard 8 + n <= raw.count else {
            throw SafetensorsError.truncated(file: file, detail: "header of \(n) bytes announced, only \(raw.count - 8) follow")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(raw[8..<(8 + n)]))
        } catch {
            throw SafetensorsError.invalidHeader(file: file, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let header = object as? [String: Any] else {
            throw SafetensorsError.invalidHeader(file: file, detail: "not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == metadataKey {
                guard let m = value as? [String: String] else {
                    throw SafetensorsError.invalidHeader(file: file, detail: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            entries.append(try parseEntry(name, value, file: file))
        }
        try checkOffsets(&entries, dataBytes: raw.count - 8 - n, file: file)
        return (entries, metadata, 8 + n)
    }

    private static func parseEntry(_ name: String, _ value: Any, file: String) throws -> Entry {
        guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
              let shapeValues = fields["shape"] as? [Any], let offsetValues = fields["data_offsets"] as? [Any] else {
            throw SafetensorsError.invalidHeader(file: file, detail: "tensor '\(name)' needs dtype, shape and data_offsets")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafetensorsError.unsupportedDtype(file: file, tensor: name, dtype: dtypeName)
        }
        let shape = shapeValues.compactMap(Self.count), offsets = offsetValues.compactMap(Self.count)
        guard shape.count == shapeValues.count else {
            throw SafetensorsError.invalidHeader(file: file, detail: "tensor '\(name)': shape \(shapeValues) is not a list of counts")
        }
        guard offsets.count == 2, offsetValues.count == 2 else {
            throw SafetensorsError.invalidHeader(file: file, detail: "tensor '\(name)': data_offsets \(offsetValues) is not [begin, end]")
        }
        // Overflow-checked: a hostile shape must not wrap around to a small size.
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw SafetensorsError.invalidHeader(file: file, detail: "tensor '\(name)': shape \(shape) is too large") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, offsets[0] <= offsets[1], offsets[1] - offsets[0] == bytes else {
            throw SafetensorsError.offsetsOutOfRange(file: file, tensor: name,
                detail: "[\(offsets[0]), \(offsets[1])) does not hold \(shape) of \(dtype.rawValue) (\(elements) × \(dtype.byteCount) bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// A non-negative JSON integer (JSONSerialization hands numbers over as NSNumber).
    private static func count(_ v: Any) -> Int? {
        guard let n = v as? Int, n >= 0 else { return nil }
        return n
    }

    /// Sorts the entries by offset and checks that they tile the data section exactly: no overlaps, no gaps
    /// and nothing past the end (a short data section means a truncated file).
    private static func checkOffsets(_ entries: inout [Entry], dataBytes: Int, file: String) throws {
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for e in entries {
            guard e.begin == expected else {
                throw SafetensorsError.offsetsOutOfRange(file: file, tensor: e.name,
                    detail: "starts at byte \(e.begin) of the data section, expected \(expected) (overlap or gap)")
            }
            expected = e.end
        }
        if expected > dataBytes {
            let last = entries.first { $0.end > dataBytes }!
            throw SafetensorsError.truncated(file: file,
                detail: "tensor '\(last.name)' ends at byte \(last.end) of the data section, which holds only \(dataBytes)")
        }
        guard expected == dataBytes else {
            throw SafetensorsError.offsetsOutOfRange(file: file, tensor: entries.last?.name ?? "-",
                detail: "tensors cover \(expected) bytes but the data section holds \(dataBytes)")
        }
    }

    /// Multiplies each I8 tensor written with `Precision.q8` by its per-slice scales and drops the scales.
    private static func dequantize(_ tensors: inout [String: Tensor], entries: [Entry], file: String) throws {
        let dtypes = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.dtype) })
        for scaleName in tensors.keys where scaleName.hasSuffix(quantizedScaleSuffix) {
            let name = String(scaleName.dropLast(quantizedScaleSuffix.count))
            let scales = tensors.removeValue(forKey: scaleName)!
            guard let q = tensors[name], dtypes[name] == .i8, q.shape.count >= 2, scales.shape == [q.shape[0]] else {
                throw SafetensorsError.invalidHeader(file: file, detail:
                    "'\(scaleName)' must scale an I8 tensor '\(name)' of rank ≥ 2, one value per slice of its first axis")
            }
            let s = scales.scalars, width = q.count / q.shape[0]
            var v = q.scalars
            for i in v.indices { v[i] *= s[i / width] }
            tensors[name] = Tensor(v, shape: q.shape)
        }
    }

    /// Converts one tensor's bytes to a Float32 tensor.
    private static func decode(_ e: Entry, _ bytes: UnsafeRawBufferPointer) -> Tensor {
        let n = e.shape.reduce(1, *)
        return Tensor(shape: e.shape) { dst in
            switch e.dtype {
            case .f32:
                if n > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: bytes.baseAddress!, byteCount: n * 4) }
            case .f16:
                for i in 0..<n { dst[i] = HalfPrecision.fromF16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bf16:
                for i in 0..<n { dst[i] = HalfPrecision.fromBF16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .f64:
                for i in 0..<n { dst[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .i8:
                for i in 0..<n { dst[i] = Float(bytes.load(fromByteOffset: i, as: Int8.self)) }
            }
        }
    }
}
