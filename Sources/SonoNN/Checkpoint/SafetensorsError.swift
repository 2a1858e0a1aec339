import Foundation
/// What went wrong reading or writing a safetensors file. Every case names the file, so a message in a
/// training log says which checkpoint is bad.
public enum SafetensorsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Shorter than its 8-byte length prefix, or than the header it announces, or than its tensors' data.
    case truncated(file: String, detail: String)
    /// Header that is not the JSON object the format prescribes.
    case invalidHeader(file: String, detail: String)
    /// A tensor whose byte range does not fit its shape or overlaps, leaves gaps or leaves the data section.
    case offsetsOutOfRange(file: String, tensor: String, detail: String)
    /// A dtype other than F32, F16, BF16 and F64.
    case unsupportedDtype(file: String, tensor: String, dtype: String)
    /// A tensor name that cannot be written (empty, duplicate or reserved).
    case invalidName(file: String, name: String, detail: String)
    /// The operating system refused to read, write or rename.
    case io(file: String, detail: String)

    public var description: String {
        switch self {
        case let .truncated(f, d): return "\(f): truncated safetensors file: \(d)"
        case let .invalidHeader(f, d): return "\(f): invalid safetensors header: \(d)"
        case let .offsetsOutOfRange(f, t, d): return "\(f): tensor '\(t)': data offsets out of range: \(d)"
        case let .unsupportedDtype(f, t, d): return "\(f): tensor '\(t)': unsupported dtype \(d) (F32, F16, BF16 and F64 are read)"
        case let .invalidName(f, n, d): return "\(f): tensor name '\(n)': \(d)"
        case let .io(f, d): return "\(f): \(d)"
        }
    }

    public var errorDescription: String? { description }
}
