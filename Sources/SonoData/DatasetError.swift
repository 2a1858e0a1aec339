import Foundation

/// Why a dataset, split or cache could not be used. Messages name the file or folder and the problem.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    case notAFolder(path: String)
    case unknownLayout(path: String, looked: String)
    case layoutMismatch(path: String, layout: String, reason: String)
    case emptyDataset(path: String)
    case invalidSplit(path: String, reason: String)
    case sampleFailed(id: String, path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .notAFolder(path): return "\(path): not a folder"
        case let .unknownLayout(path, looked):
            return "\(path): no known dataset layout found (looked for \(looked))"
        case let .layoutMismatch(path, layout, reason): return "\(path): not a \(layout) dataset (\(reason))"
        case let .emptyDataset(path): return "\(path): dataset has no usable samples"
        case let .invalidSplit(path, reason): return "\(path): invalid split file (\(reason))"
        case let .sampleFailed(id, path, reason): return "\(path): sample \(id) failed (\(reason))"
        case let .writeFailed(path, reason): return "\(path): cannot write file (\(reason))"
        case let .invalidConfiguration(message): return message
        }
    }
}

extension DatasetError: LocalizedError {
    public var errorDescription: String? { description }
}
