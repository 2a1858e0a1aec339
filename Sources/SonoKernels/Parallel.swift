import COneDNN

/// Splits SonoSeg's own loops over the cores, on the OpenMP thread pool that oneDNN's primitives use: one
/// pool, so our workers never wait behind OpenMP threads spinning between primitives.
public enum Parallel {
    /// Worker count for every loop and primitive. Set once at start-up (`--threads`); defaults to OpenMP's
    /// (OMP_NUM_THREADS or the core count).
    public static var threads: Int {
        get { Int(omp_get_max_threads()) }
        set { omp_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Calls `body` on disjoint ranges covering `0..<count`. Ranges start at multiples of 64 so SIMD loops
    /// see aligned chunks; small jobs run on the calling thread because a parallel region costs microseconds.
    @inlinable @inline(__always)
    public static func forRanges(_ count: Int, minChunk: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / minChunk))
        if workers <= 1 { body(0..<count); return }
        let chunk = ((count + workers - 1) / workers + 63) & ~63
        run(workers: workers) { i in
            let start = i * chunk
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(worker)` for worker in 0..<workers, one per OpenMP thread.
    public static func run(workers: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let box = Unmanaged.passRetained(Job(body))
            defer { box.release() }
            GOMP_parallel({ ctx in
                let job = Unmanaged<Job>.fromOpaque(ctx!).takeUnretainedValue()
                job.body(Int(omp_get_thread_num()))
            }, box.toOpaque(), UInt32(workers), 0)
        }
    }

    final class Job {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }
}
