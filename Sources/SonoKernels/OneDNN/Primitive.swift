import COneDNN
import Foundation

/// A created oneDNN primitive with its descriptor. Built once per shape and kept in `PrimitiveCache`.
final class Primitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    /// The implementation oneDNN chose (`jit:avx2`, `brg:avx512_core`, `gemm:jit`, `ref:any`, …).
    let implementation: String
    /// Whether oneDNN fell back to its reference loops (correct, but tens to hundreds of times slower); checked
    /// on every convolution call, so decided once here.
    let isReference: Bool
    /// Times `execute` ran (for `CPUPlatform.primitivesInUse`; a primitive made only to be compared is never run).
    private(set) var executions = 0

    /// Takes ownership of `pd`.
    init(pd: dnnl_primitive_desc_t, what: String) {
        self.pd = pd
        var info: UnsafePointer<CChar>?
        let status = withUnsafeMutablePointer(to: &info) { dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, $0) }
        implementation = status == dnnl_success ? info.map { String(cString: $0) } ?? "?" : "?"
        isReference = implementation.hasPrefix("ref")
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, pd), "primitive_create \(what)")
        primitive = p!
    }

    /// Creates the descriptor from an op descriptor (`dnnl_convolution_desc_t` etc.).
    convenience init<Desc>(desc: Desc, hint: Primitive? = nil, attr: dnnl_primitive_attr_t? = nil, what: String) {
        let (status, pd) = Primitive.descriptor(desc, hint: hint, attr: attr)
        dnnlCheck(status, "primitive_desc_create \(what)")
        self.init(pd: pd!, what: what)
    }

    /// As `init(desc:hint:attr:what:)`, but nil when oneDNN has no implementation for the descriptor (a
    /// specific algorithm such as Winograd asked for a shape it does not cover), or only its reference loops when
    /// `optimisedOnly`.
    static func ifImplemented<Desc>(desc: Desc, hint: Primitive? = nil, attr: dnnl_primitive_attr_t? = nil,
                                    what: String, optimisedOnly: Bool = false) -> Primitive? {
        let (status, pd) = descriptor(desc, hint: hint, attr: attr)
        guard status == dnnl_success, let pd else { return nil }
        let p = Primitive(pd: pd, what: what)
        return optimisedOnly && p.isReference ? nil : p
    }


    private static func descriptor<Desc>(_ desc: Desc, hint: Primitive?, attr: dnnl_primitive_attr_t?) -> (dnnl_status_t, dnnl_primitive_desc_t?) {
        var desc = desc
        var pd: dnnl_primitive_desc_t?
        let status = withUnsafePointer(to: &desc) { ptr in
            dnnl_primitive_desc_create(&pd, UnsafeRawPointer(ptr).assumingMemoryBound(to: dnnl_op_desc_t.self),
                                       attr, DNNLContext.shared.engine, hint?.pd)
        }
        return (status, pd)
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    /// The memory descriptor the primitive expects for an argument (`dnnl_query_src_md`, …).
    func md(_ query: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, query, index).pointee
    }

    /// Runs the primitive on raw pointers described by `md`s, synchronously.
    func execute(_ args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) {
        executions &+= 1
        let engine = DNNLContext.shared.engine
        var memories: [dnnl_memory_t?] = []
        memories.reserveCapacity(args.count)
        var execArgs: [dnnl_exec_arg_t] = []
        execArgs.reserveCapacity(args.count)
        for (arg, md, ptr) in args {
            var md = md
            var mem: dnnl_memory_t?
            dnnlCheck(dnnl_memory_create(&mem, &md, engine, ptr), "memory_create")
            memories.append(mem)
            execArgs.append(dnnl_exec_arg_t(arg: arg, memory: mem))
        }
        let status = dnnl_primitive_execute(primitive, DNNLContext.shared.stream, Int32(execArgs.count), execArgs)
        if status != dnnl_success {
            let detail = args.map { arg, md, _ in
                let want = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg).pointee
                return "arg \(arg): given \(mdKey(md)) expected \(mdKey(want))"
            }.joined(separator: "; ")
            fatalError("oneDNN: primitive_execute failed with status \(status.rawValue): \(detail)")
        }
        dnnlCheck(dnnl_stream_wait(DNNLContext.shared.stream), "stream_wait")
        for m in memories { dnnl_memory_destroy(m) }
    }
}

/// Primitives keyed by op and shape. Creating a convolution primitive costs milliseconds (JIT code
/// generation); a training step reuses the same few dozen shapes.
final class PrimitiveCache: @unchecked Sendable {
    static let shared = PrimitiveCache()
    private var entries: [String: Primitive] = [:]
    private let lock = NSLock()

    func get(_ key: String, _ make: () -> Primitive) -> Primitive {
        lock.lock(); defer { lock.unlock() }
        if let p = entries[key] { return p }
        let p = make()
        entries[key] = p
        return p
    }

    /// Every cached primitive with its key.
    func all() -> [(key: String, primitive: Primitive)] {
        lock.lock(); defer { lock.unlock() }
        return entries.map { ($0.key, $0.value) }
    }
}

/// Scratch buffers for weight reorders, kept alive by the caller as long as the reordered data is needed.
extension Primitive {
    /// Reorders `src` (described by `from`) into a new buffer described by `to`.
    static func reorder(_ src: UnsafeMutableRawPointer, from: dnnl_memory_desc_t, to: dnnl_memory_desc_t,
                        into dst: UnsafeMutableRawPointer) {
        let key = "reorder|\(mdKey(from))|\(mdKey(to))"
        let p = PrimitiveCache.shared.get(key) {
            var from = from, to = to
            var pd: dnnl_primitive_desc_t?
            let e = DNNLContext.shared.engine
            dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &from, e, &to, e, nil), "reorder_primitive_desc_create")
            return Primitive(pd: pd!, what: "reorder")
        }
        p.execute([(Arg.src, from, src), (Arg.dst, to, dst)])
    }
}

/// A string that identifies a memory descriptor's dims and physical format, for cache keys.
func mdKey(_ md: dnnl_memory_desc_t) -> String {
    var md = md
    let n = Int(md.ndims)
    var s = withUnsafeBytes(of: &md.dims) { raw in
        raw.bindMemory(to: Int64.self).prefix(n).map(String.init).joined(separator: ",")
    }
    s += ":\(md.format_kind.rawValue)"
    if md.format_kind == dnnl_blocked {
        withUnsafeBytes(of: &md.format_desc.blocking) { raw in
            // strides + inner blocks fully describe a blocked layout
            let b = raw.bindMemory(to: Int64.self)
            s += ":" + b.prefix(12 + 1 + 12 + 12).map(String.init).joined(separator: ",")
        }
    } else {
        // Winograd weights (`wino`) and other opaque formats: their parameters (tile, blocking, sizes)
        // differ between convolutions with the same weight dims, so all of them go into the key.
        withUnsafeBytes(of: &md.format_desc) { raw in
            s += ":" + raw.map { String($0, radix: 16) }.joined(separator: ".")
        }
    }
    return s
}
