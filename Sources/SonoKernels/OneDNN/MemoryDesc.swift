import COneDNN

/// Builders for oneDNN memory descriptors from SonoSeg shapes and layouts.
enum MD {
    static func tag(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { Int64($0) }
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag), "memory_desc_init \(dims)")
        return md
    }

    /// A row-major descriptor for any rank.
    static func plain(_ dims: [Int]) -> dnnl_memory_desc_t {
        let tags: [dnnl_format_tag_t] = [dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde]
        precondition(dims.count >= 1 && dims.count <= 5, "rank \(dims.count) is not supported by oneDNN here")
        return tag(dims, tags[dims.count - 1])
    }

    static func of(_ dims: [Int], _ layout: Layout) -> dnnl_memory_desc_t {
        switch layout {
        case .plain: return plain(dims)
        case let .blocked(b):
            precondition(layout.holds(dims), "\(layout) needs a 4-D shape [N, C, H, W] with C a multiple of \(b), got \(dims)")
            switch b {
            case 16: return tag(dims, dnnl_nChw16c)
            case 8: return tag(dims, dnnl_nChw8c)
            case 4: return tag(dims, dnnl_nChw4c)
            default: preconditionFailure("oneDNN has no nChw\(b)c layout (block widths 4, 8 and 16 exist)")
            }
        }
    }

    /// Lets the primitive choose (used for weights, which we reorder from OIHW).
    static func any(_ dims: [Int]) -> dnnl_memory_desc_t { tag(dims, dnnl_format_tag_any) }

    static func strided(_ dims: [Int], _ strides: [Int]) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { Int64($0) }, s = strides.map { Int64($0) }
        dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(d.count), d, dnnl_f32, s), "memory_desc_init_by_strides")
        return md
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func size(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md) / MemoryLayout<Float>.stride
    }
}


extension MD {
    static func byteSize(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }
}
