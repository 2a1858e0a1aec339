import COneDNN

/// C = op(A) · op(B) (+ bias), batched over a leading dimension, through oneDNN's matmul. Transposes are
/// expressed as strides, so no copy is made.
public enum MatmulKernels {
    /// A: [batch, m, k] (or [batch, k, m] when transposeA), B: [batch, k, n] (or [batch, n, k] when
    /// transposeB), C: [batch, m, n], bias: [n]. `accumulate` adds into C instead of overwriting it.
    public static func matmul(batch: Int, m: Int, n: Int, k: Int,
                              a: UnsafeMutablePointer<Float>, transposeA: Bool,
                              b: UnsafeMutablePointer<Float>, transposeB: Bool,
                              c: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>? = nil,
                              accumulate: Bool = false) {
        let aMD = transposeA ? MD.strided([batch, m, k], [m * k, 1, m]) : MD.strided([batch, m, k], [m * k, k, 1])
        let bMD = transposeB ? MD.strided([batch, k, n], [k * n, 1, k]) : MD.strided([batch, k, n], [k * n, n, 1])
        let cMD = MD.plain([batch, m, n])
        let biasMD = MD.plain([1, 1, n])
        let key = "matmul|\(batch),\(m),\(n),\(k)|\(transposeA)\(transposeB)|\(bias != nil)|\(accumulate)"
        let p = PrimitiveCache.shared.get(key) {
            var a = aMD, b = bMD, c = cMD, bm = biasMD
            var d = dnnl_matmul_desc_t()
            var attr: dnnl_primitive_attr_t?
            if accumulate {
                dnnlCheck(dnnl_primitive_attr_create(&attr), "attr_create")
                var ops: dnnl_post_ops_t?
                dnnlCheck(dnnl_post_ops_create(&ops), "post_ops_create")
                dnnlCheck(dnnl_post_ops_append_sum(ops, 1), "post_ops_append_sum")
                dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
                dnnl_post_ops_destroy(ops)
            }
            defer { if let attr { dnnl_primitive_attr_destroy(attr) } }
            if bias != nil {
                dnnlCheck(dnnl_matmul_desc_init(&d, &a, &b, &bm, &c), "matmul desc")
            } else {
                dnnlCheck(dnnl_matmul_desc_init(&d, &a, &b, nil, &c), "matmul desc")
            }
            return Primitive(desc: d, attr: attr, what: key)
        }
        var args = [(Arg.src, aMD, UnsafeMutableRawPointer(a)), (Arg.weights, bMD, UnsafeMutableRawPointer(b)),
                    (Arg.dst, cMD, UnsafeMutableRawPointer(c))]
        if let bias { args.append((Arg.bias, biasMD, UnsafeMutableRawPointer(bias))) }
        p.execute(args)
    }
}
