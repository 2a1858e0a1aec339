import Foundation
import SonoBase
import SonoImaging

/// A folder of resized grey images and masks, so each file is decoded and resized once rather than every
/// epoch. An entry's name is a hash of the preprocessing settings and, for the image and every mask, its
/// path, size and modification time: editing a file or a setting makes a new entry; stale ones are simply
/// unused. Entries are written atomically; an unreadable entry is treated as missing and rewritten.
public struct PreprocessCache: Sendable {
    public let folder: URL
    let settingsKey: String

    public init(folder: URL, config: PreprocessConfig) throws {
        self.folder = folder
        do { try Folders.create(folder) } catch {
            throw DatasetError.writeFailed(path: folder.path, reason: "cannot create cache folder (\(error))")
        }
        var resizeOnly = config
        resizeOnly.normalization = IntensityNormalization()  // normalisation happens after the cache
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        settingsKey = String(decoding: (try? encoder.encode(resizeOnly)) ?? Data(), as: UTF8.self)
    }

    /// The entry's file for `sample`; nil when a source file cannot be stat'ed (loading will report it).
    public func entryURL(for sample: Sample) -> URL? {
        var key = "v1|" + settingsKey
        for url in [sample.imageURL] + sample.maskURLs {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = attributes[.size] as? NSNumber, let modified = attributes[.modificationDate] as? Date
            else { return nil }
            key += "|\(url.path)|\(size)|\(modified.timeIntervalSince1970)"
        }
        return folder.appendingPathComponent(Self.hash(key) + ".sample")
    }

    public func load(_ sample: Sample) -> ResizedSample? {
        guard let url = entryURL(for: sample), let data = try? Data(contentsOf: url) else { return nil }
        return Self.decode(data)
    }

    public func store(_ resized: ResizedSample, for sample: Sample) throws {
        guard let url = entryURL(for: sample) else { return }
        try AtomicFile.write(Self.encode(resized), to: url)
    }

    // Layout: "SSC1", 10 Int32 (width, height, 8 geometry fields), width·height Float32, width·height UInt8.
    static func encode(_ s: ResizedSample) -> Data {
        var data = Data("SSC1".utf8)
        let g = s.geometry
        for v in [s.image.width, s.image.height, g.sourceWidth, g.sourceHeight, g.targetWidth, g.targetHeight,
                  g.contentWidth, g.contentHeight, g.offsetX, g.offsetY] {
            withUnsafeBytes(of: Int32(v).littleEndian) { data.append(contentsOf: $0) }
        }
        s.image.pixels.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        data.append(contentsOf: s.mask.pixels)
        return data
    }

    static func decode(_ data: Data) -> ResizedSample? {
        let bytes = [UInt8](data)
        guard bytes.count >= 44, bytes[0..<4] == [0x53, 0x53, 0x43, 0x31] else { return nil }
        var header = [Int](repeating: 0, count: 10)
        for i in 0..<10 {
            let o = 4 + i * 4
            header[i] = Int(Int32(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
        }
        let w = header[0], h = header[1], n = w * h
        guard w > 0, h > 0, bytes.count == 44 + n * 5 else { return nil }
        var pixels = [Float](repeating: 0, count: n)
        pixels.withUnsafeMutableBytes { $0.copyBytes(from: bytes[44..<(44 + n * 4)]) }
        let mask = Array(bytes[(44 + n * 4)...])
        guard mask.allSatisfy({ $0 <= 1 }) else { return nil }
        var geometry = LetterboxGeometry(sourceWidth: header[2], sourceHeight: header[3], targetWidth: header[4], targetHeight: header[5])
        geometry.contentWidth = header[6]; geometry.contentHeight = header[7]; geometry.offsetX = header[8]; geometry.offsetY = header[9]
        return ResizedSample(image: GrayImage(width: w, height: h, pixels: pixels), mask: Mask(width: w, height: h, pixels: mask),
                             geometry: geometry)
    }

    /// 128-bit FNV-1a (two 64-bit lanes with different bases) as hex; only used to name cache entries.
    static func hash(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 0x9E37
        }
        return String(format: "%016llx%016llx", a, b)
    }
}
