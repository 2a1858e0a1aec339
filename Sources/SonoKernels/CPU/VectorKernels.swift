import COneDNN
import CVectorKernels

/// Element-wise kernels whose widest variant is picked when the process starts, not when it was built: the
/// release build targets x86-64-v3, so the Swift SIMD loops run 8 lanes at a time even on AVX-512 CPUs. The
/// hottest of them (the Gabor activation: 35% of an implicit-network training step) lives in C, compiled for
/// both widths. The 16-lane variant runs only where the CPU has AVX-512 and oneDNN is allowed to use it, so
/// `ONEDNN_MAX_CPU_ISA=AVX2` shows what an AVX2-only CPU gets, for these kernels as for oneDNN's.
public enum VectorKernels {
    /// The variant in use: 16 lanes on AVX-512, else the baseline.
    public static let isa: sono_vector_isa = {
        // oneDNN's ISA values are bit sets: avx512_core's bits are contained in every later AVX-512 level.
        let core = dnnl_cpu_isa_avx512_core.rawValue
        let oneDNNAllowsAVX512 = dnnl_get_effective_cpu_isa().rawValue & core == core
        if oneDNNAllowsAVX512 && sono_vector_isa_supported(SONO_VECTOR_AVX512) != 0 { return SONO_VECTOR_AVX512 }
        return SONO_VECTOR_DEFAULT
    }()

    /// "avx512" or "baseline", for `sonoseg bench`'s first line.
    public static var name: String { isa == SONO_VECTOR_AVX512 ? "avx512" : "baseline" }

    /// y = cos(w0 x) · exp(-(s0 x)²) over `count` floats, and its derivative into `dy` when given, spread over
    /// the cores.
    public static func gabor(_ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                             _ dy: UnsafeMutablePointer<Float>?, omega w0: Float, scale s0: Float,
                             isa: sono_vector_isa = VectorKernels.isa) {
        Parallel.forRanges(count) { r in
            sono_gabor(isa, r.count, x + r.lowerBound, y + r.lowerBound, dy.map { $0 + r.lowerBound }, w0, s0)
        }
    }
}
