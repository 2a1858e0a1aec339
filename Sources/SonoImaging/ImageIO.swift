import CImageCodecs
import Foundation
import SonoBase

/// Reading and writing image files. The format is detected from the file's first bytes, so a PNG named
/// `.jpg` still reads; anything else is reported as "not a PNG/JPEG/BMP/TIFF/DICOM image" with the file's path.
public enum ImageIO {
    /// The largest image read unless a caller says otherwise (`--max-pixels`): 100 megapixels, over ten times
    /// the largest ultrasound frame, so a file of a few kilobytes cannot claim gigabytes of memory.
    public static let defaultMaxPixels = 100_000_000

    /// Reads and decodes an image file: the first frame of a DICOM file or the first page of a TIFF (`readScan`
    /// gives them all). 16-bit PNGs and 32-bit float TIFFs are returned as `.float` samples in [0, 1]. An image
    /// of more than `maxPixels` pixels is an error, found from its header before any pixel memory is taken.
    public static func read(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> Image {
        try decode(readBytes(url), path: url.path, maxPixels: maxPixels)
    }

    /// Reads a file's bytes, turning Foundation's errors into `ImageError`s that name the file.
    public static func readBytes(_ url: URL) throws -> [UInt8] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "permission denied or not a file"
                : "no such file"
            throw ImageError.unreadable(path: url.path, reason: reason)
        }
        return [UInt8](data)
    }

    /// Decodes image bytes; `path` is used only in error messages.
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int = defaultMaxPixels) throws -> Image {
        if bytes.isEmpty { throw ImageError.emptyFile(path: path) }
        guard let format = ImageFormat.detect(bytes) else { throw ImageError.notAnImage(path: path) }
        switch format {
        case .bmp: return try BMPDecoder.decode(bytes, path: path, maxPixels: maxPixels)
        case .png, .jpeg, .tiff: return try decodeWithC(bytes, format: format, path: path, maxPixels: maxPixels)[0]
        case .dicom: return try DICOMScan.decode(bytes, path: path, maxPixels: maxPixels).frames[0]
        }
    }

    /// Every frame of a PNG, JPEG or TIFF (one for PNG and JPEG, a TIFF's pages).
    static func decodeWithC(_ bytes: [UInt8], format: ImageFormat, path: String, maxPixels: Int) throws -> [Image] {
        var decoded = SonoDecodedImage()
        var message = [CChar](repeating: 0, count: Int(SONO_ERROR_CAPACITY))
        let status: Int32 = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { error in
                switch format {
                case .png: return sono_decode_png(buffer.baseAddress, buffer.count, 1, max(maxPixels, 1), &decoded, error.baseAddress)
                case .tiff: return sono_decode_tiff(buffer.baseAddress, buffer.count, max(maxPixels, 1), &decoded, error.baseAddress)
                default: return sono_decode_jpeg(buffer.baseAddress, buffer.count, max(maxPixels, 1), &decoded, error.baseAddress)
                }
            }
        }
        guard status == 0, let raw = decoded.pixels else {
            let reason = String(cString: message)
            if status == 2 { throw ImageError.tooLarge(path: path, reason: reason) }
            if status == 3 { throw ImageError.unsupported(path: path, format: format.rawValue, reason: reason) }
            throw ImageError.corrupt(path: path, format: format.rawValue, reason: reason.isEmpty ? "unknown" : reason)
        }
        defer { sono_free(raw) }
        let width = Int(decoded.width), height = Int(decoded.height), channels = Int(decoded.channels)
        let frames = max(1, Int(decoded.frames)), count = width * height * channels
        let samples = try pixelBuffer(raw, count: count * frames, bytesPerSample: Int(decoded.bytes_per_sample), path: path, format: format)
        return (0..<frames).map { f in
            Image(width: width, height: height, channels: channels, pixels: samples.slice(f * count, count),
                  sourceBitDepth: Int(decoded.source_bit_depth))
        }
    }

    /// Decoded samples as 8-bit, or as floats in [0, 1]: 16-bit samples over their full range, 32-bit float
    /// samples (TIFF) by min–max over the whole file. Float files carry whatever unit their writer chose (echo
    /// amplitude, dB, already 0–1) and no range tag writers agree on, so the file's own extremes are the only
    /// scale to hand; one scale for all pages keeps a cine loop's frames comparable.
    private static func pixelBuffer(_ raw: UnsafeMutablePointer<UInt8>, count: Int, bytesPerSample: Int, path: String,
                                    format: ImageFormat) throws -> PixelBuffer {
        switch bytesPerSample {
        case 2:
            let samples = UnsafeRawPointer(raw).bindMemory(to: UInt16.self, capacity: count)
            return .float((0..<count).map { Float(samples[$0]) * (1 / 65535) })
        case 4:
            let samples = Array(UnsafeBufferPointer(start: UnsafeRawPointer(raw).bindMemory(to: Float.self, capacity: count), count: count))
            guard samples.allSatisfy(\.isFinite) else {
                throw ImageError.unsupported(path: path, format: format.rawValue, reason: "floating-point samples that are NaN or infinite")
            }
            return .float(minMaxNormalized(samples))
        default:
            return .uint8(Array(UnsafeBufferPointer(start: raw, count: count)))
        }
    }

    /// Samples stretched to [0, 1] by their minimum and maximum; a constant image becomes 0.
    static func minMaxNormalized(_ samples: [Float]) -> [Float] {
        guard let low = samples.min(), let high = samples.max(), high > low else { return [Float](repeating: 0, count: samples.count) }
        let scale = 1 / (high - low)
        return samples.map { ($0 - low) * scale }
    }

    /// Reads an image as grey (ITU-R BT.601 luminance, alpha dropped); see `GrayConversion`.
    public static func readGray(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> GrayConversion {
        GrayConversion(try read(url, maxPixels: maxPixels))
    }

    /// Reads a mask: grey by luminance, then lesion where the value is above half the maximum.
    public static func readMask(_ url: URL) throws -> MaskReading {
        MaskReading(try read(url))
    }

    /// Encodes 8-bit grey or RGB as PNG bytes. Float samples are rounded to 8 bit; alpha is dropped.
    public static func encodePNG(_ image: Image, path: String = "<memory>") throws -> Data {
        let opaque = image.droppingAlpha()
        let channels = opaque.channels
        var bytes = [UInt8](repeating: 0, count: opaque.width * opaque.height * channels)
        switch opaque.pixels {
        case let .uint8(values): bytes = values
        case let .float(values): bytes = values.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
        }
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: Int(SONO_ERROR_CAPACITY))
        let status = message.withUnsafeMutableBufferPointer { error in
            sono_encode_png(bytes, Int32(opaque.width), Int32(opaque.height), Int32(channels), &output, &length,
                            error.baseAddress)
        }
        guard status == 0, let output else {
            throw ImageError.writeFailed(path: path, reason: String(cString: message))
        }
        defer { sono_free(output) }
        return Data(bytes: output, count: length)
    }

    /// Writes an 8-bit grey or RGB PNG atomically (temporary file in the same folder, then rename).
    public static func writePNG(_ image: Image, to url: URL) throws {
        do { try AtomicFile.write(try encodePNG(image, path: url.path), to: url) } catch let e as FileWriteError {
            throw ImageError.writeFailed(path: e.path, reason: e.reason)
        }
    }

    /// Writes a grey image as 8-bit PNG (values clamped to [0, 1]).
    public static func writePNG(_ image: GrayImage, to url: URL) throws {
        try writePNG(image.toImage(), to: url)
    }

    /// Writes a mask as 8-bit PNG with lesion = 255.
    public static func writePNG(_ mask: Mask, to url: URL) throws {
        try writePNG(mask.toImage(), to: url)
    }
}
