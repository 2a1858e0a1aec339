import Foundation

/// Independent per-item work that waits on files (reading and decoding images for a batch or an inspection),
/// spread over GCD's threads. Compute runs on the OpenMP pool (SonoKernels' `Parallel`); keeping file work on
/// the other pool lets the loader prefetch the next batch while a training step holds every OpenMP thread.
/// Results keep the input order, so output never depends on thread timing.
public enum Concurrently {
    public static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
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
