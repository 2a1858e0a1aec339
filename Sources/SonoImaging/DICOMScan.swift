import CDicom
import Foundation

/// Every frame of an image file with the physical pixel size the file states: one frame and no spacing for
/// PNG/JPEG/BMP, a TIFF's pages and no spacing; a DICOM file's frames (a cine loop has many) and its calibration.
public struct Scan: Sendable {
    public var format: ImageFormat
    public var frames: [Image]
    /// Millimetres per pixel along x (columns) and y (rows), when the file says.
    public var spacingMM: (x: Double, y: Double)?
    /// Where the spacing came from ("ultrasound regions", "pixel spacing", "imager pixel spacing").
    public var spacingSource: String?
    /// A DICOM file's Study, Series and SOP Instance UIDs (nil for other formats; an absent one is nil).
    public var uids: DICOMUIDs? = nil
}

/// What traces a result back to the examination it came from, and nothing that names the patient.
public struct DICOMUIDs: Sendable, Equatable {
    public var study: String?
    public var series: String?
    public var sopInstance: String?
}

/// DICOM through DCMTK (CDicom): uncompressed, RLE, JPEG and JPEG-LS pixel data, grey or colour, any number
/// of frames; spacing from the Sequence of Ultrasound Regions, else Pixel Spacing, else Imager Pixel Spacing.
public enum DICOMScan {
    public static func decode(_ bytes: [UInt8], path: String, maxPixels: Int = ImageIO.defaultMaxPixels) throws -> Scan {
        var decoded = SonoDicomImage()
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let status = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { sono_decode_dicom(buffer.baseAddress, buffer.count, max(maxPixels, 1), &decoded, $0.baseAddress) }
        }
        guard status == 0, let raw = decoded.pixels else {
            let reason = String(cString: message)
            if status == 2 { throw ImageError.tooLarge(path: path, reason: reason) }
            if status == 3 { throw ImageError.unsupported(path: path, format: "DICOM", reason: reason) }
            throw ImageError.corrupt(path: path, format: "DICOM", reason: reason.isEmpty ? "unknown" : reason)
        }
        defer { sono_dicom_free(raw) }
        let (w, h, c) = (Int(decoded.width), Int(decoded.height), Int(decoded.channels))
        let frameBytes = w * h * c
        let frames = (0..<Int(decoded.frames)).map { f in
            Image(width: w, height: h, channels: c, pixels: .uint8(Array(UnsafeBufferPointer(start: raw + f * frameBytes, count: frameBytes))))
        }
        let sources = [1: "ultrasound regions", 2: "pixel spacing", 3: "imager pixel spacing"]
        let spacing = decoded.spacing_source > 0 ? (x: decoded.spacing_x, y: decoded.spacing_y) : nil
        func text<T>(_ field: T) -> String? {
            let s = withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return s.isEmpty ? nil : s
        }
        let uids = DICOMUIDs(study: text(decoded.study_uid), series: text(decoded.series_uid), sopInstance: text(decoded.sop_uid))
        return Scan(format: .dicom, frames: frames, spacingMM: spacing, spacingSource: sources[Int(decoded.spacing_source)], uids: uids)
    }
}

extension ImageIO {
    /// The file's frames and stated pixel spacing (DICOM), a TIFF's pages as frames, or its one image (other
    /// formats).
    public static func readScan(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> Scan {
        let bytes = try readBytes(url)
        if ImageFormat.detect(bytes) == .dicom { return try DICOMScan.decode(bytes, path: url.path, maxPixels: maxPixels) }
        if ImageFormat.detect(bytes) == .tiff {
            let pages = try decodeWithC(bytes, format: .tiff, path: url.path, maxPixels: maxPixels)
            return Scan(format: .tiff, frames: pages, spacingMM: nil, spacingSource: nil)
        }
        let image = try decode(bytes, path: url.path, maxPixels: maxPixels)
        return Scan(format: ImageFormat.detect(bytes) ?? .png, frames: [image], spacingMM: nil, spacingSource: nil)
    }
}
