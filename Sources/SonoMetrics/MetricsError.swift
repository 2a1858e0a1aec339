/// Why a metric could not be computed from its inputs (a caller's data problem, so thrown with a message that
/// names it rather than trapped).
public enum MetricsError: Error, Equatable, CustomStringConvertible {
    /// Array lengths disagree with each other or with width × height.
    case sizeMismatch(String)
    /// Inputs that are the right size but unusable (no samples, label out of range, …).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .sizeMismatch(let message): return "size mismatch: \(message)"
        case .invalidInput(let message): return "invalid input: \(message)"
        }
    }

    static func checkSize(_ count: Int, width: Int, height: Int, _ what: String) throws {
        guard width > 0, height > 0 else {
            throw MetricsError.invalidInput("image size \(width)×\(height) is empty")
        }
        guard count == width * height else {
            throw MetricsError.sizeMismatch("\(what) has \(count) values, expected \(width)×\(height) = \(width * height)")
        }
    }
}
