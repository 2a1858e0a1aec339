/// Something wrong or suspicious found while reading or inspecting a dataset. Problems are reported, never
/// silently skipped: the caller decides whether they matter.
public struct DatasetProblem: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case imageWithoutMask
        case maskWithoutImage
        case missingFile
        case sizeMismatch
        case nonBinaryMask
        case emptyMaskOnLesion
        case duplicateImage
        case unreadableFile
        case unlistedImage
        case duplicateID
        case inconsistentMetadata
    }

    public var kind: Kind
    /// Paths of the files involved (absolute).
    public var files: [String]
    public var message: String

    public init(kind: Kind, files: [String], message: String) {
        (self.kind, self.files, self.message) = (kind, files, message)
    }
}
