import Dispatch
import Foundation

/// Splits element-wise work over the machine's cores. oneDNN brings its own OpenMP threads for the heavy
/// primitives; this is for SonoSeg's own loops.
public enum Parallel {
    /// Worker count for SonoSeg's own loops. Set once at start-up from `--threads`.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Calls `body` on disjoint ranges covering `0..<count`. Ranges start at multiples of 64, so SIMD loops see
    /// aligned chunks; small jobs run on the calling thread because dispatch costs microseconds.
    @inline(__always)
    public static func forRanges(_ count: Int, minChunk: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / minChunk))
        if workers <= 1 { body(0..<count); return }
        let chunk = ((count + workers - 1) / workers + 63) & ~63
        DispatchQueue.concurrentPerform(iterations: workers) { i in
            let start = i * chunk
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }
}
