import Foundation

/// Runs independent per-item work on all cores. Results keep the input order, so output never depends on
/// thread timing.
enum Parallel {
    static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            // Each iteration writes only its own slot, so no lock is needed.
            DispatchQueue.concurrentPerform(iterations: count) { i in base[i] = body(i) }
        }
        return results.map { $0! }
    }
}
