import Foundation

/// Why an image could not be read, decoded, processed or written. Every message names the file involved.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read (missing, permissions, a folder).
    case unreadable(path: String, reason: String)
    /// The file is empty.
    case emptyFile(path: String)
    /// The first bytes match none of the supported formats.
    case notAnImage(path: String)
    /// The file has the signature of `format` but its contents are corrupt or truncated.
    case corrupt(path: String, format: String, reason: String)
    /// The file is a valid `format` file in a variant SonoSeg does not read (e.g. 32-bit DICOM samples); said
    /// apart from `corrupt` so that nobody goes looking for damage in a good file.
    case unsupported(path: String, format: String, reason: String)
    /// The image is larger than the reader's pixel limit (`--max-pixels`); found from its header.
    case tooLarge(path: String, reason: String)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)
    /// An operation was given images whose sizes or channel counts do not fit together.
    case incompatible(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read file (\(reason))"
        case let .emptyFile(path): return "\(path): file is empty (0 bytes)"
        case let .notAnImage(path): return "\(path): not a PNG/JPEG/BMP/TIFF/DICOM image"
        case let .corrupt(path, format, reason): return "\(path): corrupt \(format) (\(reason))"
        case let .unsupported(path, format, reason): return "\(path): valid but unsupported \(format) (\(reason))"
        case let .tooLarge(path, reason): return "\(path): too large to read (\(reason))"
        case let .writeFailed(path, reason): return "\(path): cannot write file (\(reason))"
        case let .incompatible(message): return message
        }
    }
}

extension ImageError: LocalizedError {
    public var errorDescription: String? { description }
}
