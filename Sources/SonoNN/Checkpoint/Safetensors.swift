import Foundation
import SonoBase
import SonoTensor
/// Reading and writing Hugging Face safetensors files (https://github.com/huggingface/safetensors):
///
///     [8 bytes: header length N, little-endian UInt64]
///     [N bytes: UTF-8 JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …,
///                           "__metadata__": {"key": "value", …}}, padded with spaces]
///     [data: each tensor's row-major little-endian bytes at [begin, end) of this section]
///
/// Files written here load in Python with `safetensors.torch.load_file`, and files written there load here.
/// Tensors are read into Float32 whatever their stored precision.
public enum Safetensors {
    /// Element types read (all of these) and written (F32, F16, BF16, and I8 for `Precision.q8`).
    public enum DType: String, CaseIterable, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i8 = "I8"

        public var byteCount: Int {
            switch self {
            case .i8: return 1
            case .f16, .bf16: return 2
            case .f32: return 4
            case .f64: return 8
            }
        }
    }

    /// How `write` stores Float32 tensors. F16 or BF16 halve a shipped model; `q8` quarters it: every tensor
    /// of rank ≥ 2 (convolution kernels, weight matrices) as I8 with one F32 scale per slice of its first
    /// axis (per output channel), stored as `NAME` + `quantizedScaleSuffix`, and the rest (biases,
    /// normalisation statistics) as F16. `read` undoes it, so every precision loads as Float32. Training
    /// checkpoints stay F32.
    public enum Precision: String, CaseIterable, Sendable {
        case f32, f16, bf16, q8
    }

    /// Marks the per-slice scales of an I8 tensor written with `Precision.q8`.
    public static let quantizedScaleSuffix = ".q8_scale"

    /// The key the format reserves for string metadata.
    static let metadataKey = "__metadata__"

    /// Writes `tensors` in the given order at `precision`. Atomic: readers never see a partial file.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], dtype precision: Precision = .f32,
                             to url: URL) throws {
        let file = url.path
        var stored: [(name: String, tensor: Tensor, dtype: DType)] = []
        for (name, t) in tensors {
            switch precision {
            case .f32: stored.append((name, t, .f32))
            // Half precision overflows above 65,504 (a batch norm's running variance can exceed it): such a
            // tensor stays F32 rather than become infinity.
            case .f16: stored.append((name, t, fitsHalf(t) ? .f16 : .f32))
            case .bf16: stored.append((name, t, .bf16))
            case .q8 where t.shape.count >= 2 && t.count > 0:
                // Int8(_:) traps on NaN and infinity: a diverged network is refused, not a crash.
                guard t.scalars.allSatisfy(\.isFinite) else {
                    throw SafetensorsError.unsupportedDtype(file: file, tensor: name, dtype: "q8 of non-finite values (NaN or infinity)")
                }
                let (q, scales) = quantize(t)
                stored += [(name, q, .i8), (name + quantizedScaleSuffix, scales, .f32)]
            case .q8: stored.append((name, t, fitsHalf(t) ? .f16 : .f32))
            }
        }
        var seen = Set<String>()
        var entries: [String: Any] = [:]
        var offset = 0
        for (name, t, dtype) in stored {
            guard !name.isEmpty, name != metadataKey else {
                throw SafetensorsError.invalidName(file: file, name: name, detail: "empty or reserved")
            }
            guard seen.insert(name).inserted else {
                throw SafetensorsError.invalidName(file: file, name: name, detail: "appears twice")
            }
            let bytes = t.count * dtype.byteCount
            entries[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { entries[metadataKey] = metadata }
        var header: Data
        do {
            header = try JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw SafetensorsError.invalidHeader(file: file, detail: "cannot encode: \(error)")
        }
        // The reference implementation pads with spaces so the data section starts 8-byte aligned.
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))

        var out = try AtomicFile(url: url)
        do {
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try out.write($0) }
            try header.withUnsafeBytes { try out.write($0) }
            for (_, t, dtype) in stored { try writeData(t, dtype: dtype, to: out) }
            try out.commit()
        } catch {
            out.abandon()
            throw error
        }
    }

    /// Whether every value survives conversion to F16 (|x| ≤ 65,504; NaN and infinities stay what they are).
    static func fitsHalf(_ t: Tensor) -> Bool {
        t.withPlainValues { v in !v.contains { $0.isFinite && abs($0) > 65_504 } }
    }

    /// Symmetric 8-bit quantisation per slice of the first axis: the integers (held as Float, in [-127, 127])
    /// and the scales [shape[0]] that map them back (`value ≈ q × scale`).
    static func quantize(_ t: Tensor) -> (q: Tensor, scales: Tensor) {
        let v = t.scalars, rows = t.shape[0], width = v.count / rows
        var q = [Float](repeating: 0, count: v.count), scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let slice = v[(r * width)..<((r + 1) * width)]
            let largest = slice.reduce(0) { max($0, abs($1)) }
            // An all-zero slice keeps scale 0; its integers are 0 either way.
            let scale = largest > 0 ? largest / 127 : 0
            scales[r] = scale
            if scale > 0 { for i in slice.indices { q[i] = (v[i] / scale).rounded() } }
        }
        return (Tensor(q, shape: t.shape), Tensor(scales, shape: [rows]))
    }

    /// A tensor's values in logical order, converted to `dtype`, in slices so a half-precision copy of a large
    /// tensor never exists in full.
    private static func writeData(_ t: Tensor, dtype: DType, to out: AtomicFile) throws {
        try t.withPlainValues { src in
            let n = src.count
            if dtype == .f32 {
                try out.write(UnsafeRawBufferPointer(src))
                return
            }
            if dtype == .i8 {
                let bytes = (0..<n).map { Int8(src[$0]) }
                try bytes.withUnsafeBytes { try out.write($0) }
                return
            }
            let slice = 1 << 16
            var half = [UInt16](repeating: 0, count: min(n, slice))
            var start = 0
            while start < n {
                let m = min(slice, n - start)
                for i in 0..<m {
                    let x = src[start + i]
                    half[i] = (dtype == .f16 ? HalfPrecision.toF16(x) : HalfPrecision.toBF16(x)).littleEndian
                }
                try half.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[0..<(m * 2)])) }
                start += m
            }
        }
    }
}

// The data section is copied to and from memory as is, which is correct only on little-endian machines
// (x86-64 and ARM64, everything SonoSeg targets).
#if _endian(big)
#error("Safetensors I/O assumes a little-endian host")
#endif
