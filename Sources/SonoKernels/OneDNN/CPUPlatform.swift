import COneDNN

/// The CPU this process runs on, as oneDNN sees it, and the activation layout chosen for it.
///
/// oneDNN's fast convolution, pooling and batch-norm kernels read channel-blocked activations whose block width
/// matches the vector registers: `nChw16c` on AVX-512, `nChw8c` on AVX2. Handed the other width they fall back to
/// reference loops hundreds of times slower. So the width is asked of oneDNN once per process, on the ISA it
/// actually dispatches to (the CPU's, or lower under `ONEDNN_MAX_CPU_ISA`), never fixed at build time.
public enum CPUPlatform {
    /// oneDNN's name for the instruction set its kernels use: "avx512_core_bf16", "avx2", "sse41", …
    public static var isa: String {
        let v = dnnl_get_effective_cpu_isa()
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_sse41, "sse41"), (dnnl_cpu_isa_avx, "avx"), (dnnl_cpu_isa_avx2, "avx2"),
            (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"), (dnnl_cpu_isa_avx512_mic, "avx512_mic"),
            (dnnl_cpu_isa_avx512_mic_4ops, "avx512_mic_4ops"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"),
        ]
        return names.first { $0.0 == v }?.1 ?? (v == dnnl_cpu_isa_all ? "all" : "isa 0x\(String(v.rawValue, radix: 16))")
    }

    /// The oneDNN library linked at run time, "2.6.3".
    public static var oneDNNVersion: String {
        let v = dnnl_version().pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// Channels per block of the activations that convolution-family layers pass between them, or nil where
    /// plain NCHW is the fastest layout oneDNN offers for training and inference alike (no AVX2, or another
    /// architecture). Decided on first use by `probeBlockWidth`.
    public static let activationBlock: Int? = probeBlockWidth()

    /// "oneDNN 2.6.3 on avx2, activations nChw8c, element-wise baseline": the first line of `sonoseg bench`.
    public static var summary: String {
        "oneDNN \(oneDNNVersion) on \(isa), activations \(Layout.preferred(for: [1, 16, 1, 1])), " +
            "element-wise \(VectorKernels.name)"
    }

    /// Every oneDNN primitive this process has run so far, by the operation and shapes it was made for (its
    /// cache key) and the implementation oneDNN chose (`jit:avx2`, `brg:avx512_core`, `ref:any`, …).
    public static func primitivesInUse() -> [(operation: String, implementation: String)] {
        PrimitiveCache.shared.all().filter { $0.primitive.executions > 0 }
            .map { ($0.key, $0.primitive.implementation) }.sorted { $0.operation < $1.operation }
    }

    /// The widest block (16, then 8) for which a 3x3 convolution's forward, backward-data and backward-weights
    /// primitives, a max pooling and a batch norm all get an optimised (non-`ref`) implementation. The probe's
    /// primitives are made outside the cache and freed, so they never show in `primitivesInUse`.
    static func probeBlockWidth() -> Int? {
        for b in [16, 8] where probe(block: b).allSatisfy({ !$0.hasPrefix("ref") }) { return b }
        return nil
    }

    /// Implementation names oneDNN picks for the probe's primitives in `nChw{block}c`.
    static func probe(block: Int) -> [String] {
        let layout = Layout.blocked(block)
        var g = ConvGeometry(n: 2, c: 32, h: 12, w: 12, o: 32, kh: 3, kw: 3)
        (g.padH, g.padW) = (1, 1)
        let fwd = ConvKernels.describeForward(g, src: layout, dst: layout, bias: true, training: true,
                                              algorithm: dnnl_convolution_auto)
        guard let forward = Primitive.ifImplemented(desc: fwd, what: "probe") else { return ["ref: none"] }
        var names = [forward.implementation]
        let data = ConvKernels.describeBackwardData(g, diffSrc: layout, diffDst: layout, algorithm: dnnl_convolution_auto)
        names.append(Primitive.ifImplemented(desc: data, hint: forward, what: "probe")?.implementation ?? "ref: none")
        let weights = ConvKernels.describeBackwardWeights(g, src: layout, diffDst: layout, bias: true)
        names.append(Primitive.ifImplemented(desc: weights, hint: forward, what: "probe")?.implementation ?? "ref: none")
        let pool = PoolGeometry(n: 2, c: 32, h: 12, w: 12, kernel: (2, 2), stride: (2, 2), padding: (0, 0), kind: .max)
        names.append(Primitive.ifImplemented(desc: PoolKernels.describeForward(pool, layout, training: true),
                                             what: "probe")?.implementation ?? "ref: none")
        let bn = BatchNormKernels.describeForward([2, 32, 12, 12], layout, 1e-5, training: true, fuseReLU: true)
        names.append(Primitive.ifImplemented(desc: bn, what: "probe")?.implementation ?? "ref: none")
        return names
    }
}
