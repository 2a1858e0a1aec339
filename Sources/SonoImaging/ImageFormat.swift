/// File formats `ImageIO` decodes, recognised by their first bytes rather than the file extension
/// (files renamed to the wrong extension are common in downloaded datasets).
public enum ImageFormat: String, Sendable, Codable {
    case png = "PNG"
    case jpeg = "JPEG"
    case bmp = "BMP"
    case tiff = "TIFF"
    case dicom = "DICOM"

    /// The format whose signature starts `bytes`, or nil.
    public static func detect<C: Collection>(_ bytes: C) -> ImageFormat? where C.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 8, head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        if head.count >= 2, head[0] == 0x42, head[1] == 0x4D { return .bmp }
        if head.count >= 4, head[0..<4] == [0x49, 0x49, 0x2A, 0x00] || head[0..<4] == [0x4D, 0x4D, 0x00, 0x2A] { return .tiff }
        // DICOM Part 10: a 128-byte preamble, then "DICM".
        if bytes.count >= 132, Array(bytes.dropFirst(128).prefix(4)) == [0x44, 0x49, 0x43, 0x4D] { return .dicom }
        return nil
    }
}
