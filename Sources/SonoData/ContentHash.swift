import SonoBase
import SonoImaging

/// A 64-bit fingerprint of an image's decoded pixels (FNV-1a over size, channel count and samples). Hashing
/// pixels rather than file bytes also catches the same image saved with different compression settings.
/// With a few thousand images an accidental collision has probability ~1e-12.
public enum ContentHash {
    public static func of(_ image: Image) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for value in [image.width, image.height, image.channels] {
            for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        switch image.pixels {
        case let .uint8(values):
            values.withUnsafeBufferPointer { buffer in for byte in buffer { mix(byte) } }
        case let .float(values):
            for value in values {
                let bits = value.bitPattern
                for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Hashes of each sample's image in parallel, keyed by sample id; unreadable images are left out (the
    /// inspector reports them).
    public static func imageHashes(_ samples: [Sample]) -> [String: String] {
        let hashes = Concurrently.map(samples.count) { i in (try? ImageIO.read(samples[i].imageURL)).map(of) }
        var result = [String: String]()
        for (sample, hash) in zip(samples, hashes) { if let hash { result[sample.id] = hash } }
        return result
    }
}
