import Foundation
import SonoKernels

/// Element-wise activations and maths. Each VJP is written from values the forward pass keeps (its input or
/// its output), chosen so the backward pass is one SIMD loop.
extension Tensor {
    public func relu() -> Tensor {
        let out = map { vmax($0, V16()) }
        return out.recorded([self]) { g, _ in [g.combine(out) { d, y in vselect(vmask(y .> 0), d, V16()) }] }
    }

    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        let out = map { vselect(vmask($0 .< 0), $0 * slope, $0) }
        return out.recorded([self]) { g, _ in [g.combine(self) { d, x in vselect(vmask(x .< 0), d * slope, d) }] }
    }

    public func sigmoid() -> Tensor {
        let out = map { vsigmoid($0) }
        return out.recorded([self]) { g, _ in [g.combine(out) { d, y in d * y * (1 - y) }] }
    }

    public func tanh() -> Tensor {
        let out = map { vtanh($0) }
        return out.recorded([self]) { g, _ in [g.combine(out) { d, y in d * (1 - y * y) }] }
    }

    public func exp() -> Tensor {
        let out = map { vexp($0) }
        return out.recorded([self]) { g, _ in [g.combine(out) { $0 * $1 }] }
    }

    public func log() -> Tensor {
        map { vlog($0) }.recorded([self]) { g, _ in [g.combine(self) { $0 / $1 }] }
    }

    public func sin() -> Tensor {
        map { vsincos($0).sin }.recorded([self]) { g, _ in [g.combine(self) { $0 * vsincos($1).cos }] }
    }

    public func cos() -> Tensor {
        map { vsincos($0).cos }.recorded([self]) { g, _ in [g.combine(self) { -$0 * vsincos($1).sin }] }
    }

    public func sqrt() -> Tensor {
        let out = map { $0.squareRoot() }
        return out.recorded([self]) { g, _ in [g.combine(out) { d, y in d / (2 * y) }] }
    }

    /// x^p for a constant exponent (x > 0 unless p is a whole number).
    public func pow(_ p: Float) -> Tensor {
        if p == 2 {
            return map { $0 * $0 }.recorded([self]) { g, _ in [g.combine(self) { d, x in 2 * d * x }] }
        }
        let isInt = p == p.rounded()
        func power(_ x: V16, _ e: Float) -> V16 {
            if isInt {
                var r = V16(repeating: 1)
                for _ in 0..<Int(Swift.abs(e)) { r = r * x }
                return e < 0 ? 1 / r : r
            }
            return vexp(e * vlog(x))
        }
        return map { power($0, p) }.recorded([self]) { g, _ in [g.combine(self) { d, x in d * p * power(x, p - 1) }] }
    }

    public func abs() -> Tensor {
        map { vabs($0) }.recorded([self]) { g, _ in
            [g.combine(self) { d, x in vselect(vmask(x .== 0), V16(), vnegate(d, where: vmask(x .< 0))) }]
        }
    }

    /// Limits values to [lo, hi]; the gradient passes only where the input was inside.
    public func clamped(_ lo: Float, _ hi: Float) -> Tensor {
        map { vclamp($0, lo, hi) }
            .recorded([self]) { g, _ in [g.combine(self) { d, x in vselect(vmask(x .< lo) | vmask(x .> hi), V16(), d) }] }
    }

    /// GELU with the exact erf form (PyTorch's default).
    public func gelu() -> Tensor {
        let x = contiguousPlain()
        let out = Tensor.empty(shape)
        for i in 0..<count { let v = x.ptr[i]; out.ptr[i] = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot().float)) }
        return out.contiguous(layout).recorded([self]) { g, _ in
            let gp = g.contiguousPlain()
            let gx = Tensor.empty(x.shape)
            for i in 0..<x.count {
                let v = x.ptr[i]
                let cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot().float))
                let pdf = Foundation.exp(-0.5 * v * v) / (2 * Float.pi).squareRoot()
                gx.ptr[i] = gp.ptr[i] * (cdf + v * pdf)
            }
            return [gx.contiguous(self.layout)]
        }
    }

    /// The real Gabor wavelet of WIRE, fused: y = cos(w0 x) · exp(-(s0 x)²).
    /// dy/dx = -exp(-(s0 x)²) · (w0 sin(w0 x) + 2 s0² x cos(w0 x)); computed in the same pass as y when
    /// recording, so the backward pass is one multiply.
    public func gabor(omega w0: Float, scale s0: Float) -> Tensor {
        let out = Tensor.empty(shape, layout)
        guard GradMode.isEnabled && requiresGrad else {
            VectorKernels.gabor(count, ptr, out.ptr, nil, omega: w0, scale: s0)
            return out
        }
        let derivative = Tensor.empty(shape, layout)
        VectorKernels.gabor(count, ptr, out.ptr, derivative.ptr, omega: w0, scale: s0)
        return out.recorded([self]) { g, _ in [g.combine(derivative) { $0 * $1 }] }
    }
}

extension Double { var float: Float { Float(self) } }
