import Foundation

/// File-system work off Swift's cooperative threads: there are as many of those as cores (two here), and a slow
/// disk, a first listing that counts a thousand DICOM files' frames, or a large file read would otherwise stall
/// every request, /healthz included. Dispatch's global queue grows threads for blocked work.
enum Blocking {
    static func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }
}
