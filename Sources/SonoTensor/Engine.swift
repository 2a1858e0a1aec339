import SonoKernels

/// The compute engine as the layers above the tensor see it: how many threads it uses, what CPU path it took,
/// what it ran. Everything below (oneDNN, layouts, SIMD variants, the OpenMP pool) stays in SonoKernels; the
/// pipeline and the CLI ask here.
public enum Engine {
    /// Worker threads of every loop and primitive (default: OpenMP's, i.e. OMP_NUM_THREADS or the core count).
    /// The one process-wide setting SonoSeg has (`--threads`).
    public static var threads: Int {
        get { Parallel.threads }
        set { Parallel.threads = newValue }
    }

    /// Runs `body` on `count` threads, then restores the previous count (for jobs too small to split, where
    /// OpenMP's waiting threads cost more than they bring).
    public static func withThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        let saved = Parallel.threads
        guard count != saved else { return try body() }
        Parallel.threads = count
        defer { Parallel.threads = saved }
        return try body()
    }

    /// "oneDNN 2.6.3 on avx2, activations nChw8c, element-wise baseline".
    public static var summary: String { CPUPlatform.summary }

    /// oneDNN's name for the instruction set in use ("avx512_core_bf16", "avx2", "sse41").
    public static var isa: String { CPUPlatform.isa }

    /// The activation layout convolution-family layers pass between them ("nChw16c", "nChw8c", "plain").
    public static var activationLayout: String { "\(Layout.preferred(for: [1, 16, 1, 1]))" }

    /// Which compiled variant the C element-wise kernels run ("avx512" or "baseline").
    public static var elementwiseVariant: String { VectorKernels.name }

    /// Every oneDNN primitive run so far: the operation and shapes, and the implementation oneDNN chose.
    public static func primitivesInUse() -> [(operation: String, implementation: String)] { CPUPlatform.primitivesInUse() }

    /// Convolution FLOPs executed so far, counted as a direct convolution would do them (for GFLOP/s figures).
    public static var convolutionFLOPs: Int { ConvKernels.executedFLOPs }

    /// Keeps freed memory in the process for reuse instead of returning it to the system: training allocates
    /// the same large activations every step.
    public static func retainFreedMemory() { MemoryPolicy.retainFreedMemory() }
}
