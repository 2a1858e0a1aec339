import SonoKernels
/// Broadcasting add, subtract, multiply, divide; scalar forms. Same-shape operands run as one SIMD pass in
/// whatever layout they share (blocked activations stay blocked); other shapes broadcast in plain layout.
extension Tensor {
    /// Brings two operands to one shape and layout.
    static func aligned(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        if a.shape == b.shape {
            if a.layout == b.layout { return (a, b) }
            // One blocked: the other joins it (a plain tensor is what converts cheaply).
            let target = a.layout.isBlocked ? a.layout : b.layout
            return (a.toLayout(target), b.toLayout(target))
        }
        let s = broadcastShape(a.shape, b.shape)
        return (a.plain().broadcast(to: s), b.plain().broadcast(to: s))
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (a, b) = aligned(a, b)
        let out = Tensor.empty(a.shape, a.layout)
        Elementwise.map2(a.count, a.ptr, b.ptr, out.ptr) { $0 + $1 }
        return out.recorded([a, b]) { g, _ in [g, g] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (a, b) = aligned(a, b)
        let out = Tensor.empty(a.shape, a.layout)
        Elementwise.map2(a.count, a.ptr, b.ptr, out.ptr) { $0 - $1 }
        return out.recorded([a, b]) { g, needs in [g, needs[1] ? g.scaled(-1) : nil] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (a, b) = aligned(a, b)
        let out = Tensor.empty(a.shape, a.layout)
        Elementwise.map2(a.count, a.ptr, b.ptr, out.ptr) { $0 * $1 }
        return out.recorded([a, b]) { g, needs in
            [needs[0] ? g.combine(b) { $0 * $1 } : nil, needs[1] ? g.combine(a) { $0 * $1 } : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (a, b) = aligned(a, b)
        let out = Tensor.empty(a.shape, a.layout)
        Elementwise.map2(a.count, a.ptr, b.ptr, out.ptr) { $0 / $1 }
        return out.recorded([a, b]) { g, needs in
            [needs[0] ? g.combine(b) { $0 / $1 } : nil,
             needs[1] ? g.combine(out) { $0 * $1 }.combine(b) { -$0 / $1 } : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a.scaled(-1) }

    public static func + (a: Tensor, s: Float) -> Tensor { a.shifted(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.shifted(s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.shifted(-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.scaled(-1).shifted(s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.scaled(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.scaled(s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.scaled(1 / s) }

    /// a * s
    public func scaled(_ s: Float) -> Tensor {
        map { $0 * s }.recorded([self]) { g, _ in [g.map { $0 * s }] }
    }

    /// a + s
    public func shifted(_ s: Float) -> Tensor {
        map { $0 + s }.recorded([self]) { g, _ in [g] }
    }

    /// f applied element-wise, same shape and layout, not recorded.
    @inline(__always)
    func map(_ f: (V16) -> V16) -> Tensor {
        let out = Tensor.empty(shape, layout)
        Elementwise.map(count, ptr, out.ptr, f)
        return out
    }

    /// f over two same-shaped tensors, in self's layout, not recorded.
    @inline(__always)
    func combine(_ other: Tensor, _ f: (V16, V16) -> V16) -> Tensor {
        precondition(shape == other.shape, "element-wise op on shapes \(shape) and \(other.shape)")
        let o = other.contiguous(layout)
        let out = Tensor.empty(shape, layout)
        Elementwise.map2(count, ptr, o.ptr, out.ptr, f)
        return out
    }
}
