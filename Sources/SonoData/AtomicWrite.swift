import Foundation
import SonoImaging

/// Atomic file writes for SonoData's JSON and cache files, with errors as `DatasetError`.
enum AtomicWrite {
    static func data(_ data: Data, to url: URL) throws {
        do { try AtomicFile.write(data, to: url) } catch {
            throw DatasetError.writeFailed(path: url.path, reason: "\(error)")
        }
    }

    static func json<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try data(try encoder.encode(value), to: url)
    }
}
