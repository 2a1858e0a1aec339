import Foundation
import SonoKernels

/// Group, instance and layer normalisation. All three normalise contiguous runs ("rows") of a plain buffer —
/// a group of channels of one image, or the last dimensions of one sample — and then apply a learned affine
/// map. They share one fused kernel: statistics, normalisation and affine in one pass forward, and the
/// classic two-pass backward dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = scale · dy.
extension Tensor {
    /// Group normalisation (Wu & He 2018) of [N, C, H, W] (or [N, C, L…]): statistics over each group of
    /// C/groups channels and all positions of one image; scale and shift [C] (nil: 1 and 0). Blocked input is
    /// normalised in plain layout and returned in its own layout.
    public func groupNorm(groups: Int, scale: Tensor? = nil, shift: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 3, "groupNorm needs [N, C, H, W] (or [N, C, L]), got \(shape)")
        let c = shape[1]
        precondition(groups > 0 && c % groups == 0, "groupNorm: \(c) channels in \(shape) do not split into \(groups) groups")
        let spatial = shape[2...].reduce(1, *)
        let plan = NormPlan(rows: shape[0] * groups, segments: c / groups, segmentLength: spatial,
                            groups: groups, perElement: false, parameters: c)
        return normalized(plan, scale, shift, eps, name: "groupNorm")
    }

    /// Instance normalisation: group normalisation with one channel per group (statistics per image and channel).
    public func instanceNorm(scale: Tensor? = nil, shift: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 3, "instanceNorm needs [N, C, H, W] (or [N, C, L]), got \(shape)")
        return groupNorm(groups: shape[1], scale: scale, shift: shift, eps: eps)
    }

    /// Layer normalisation (Ba et al. 2016) over the last `dims` dimensions, as PyTorch's
    /// `layer_norm(x, shape[-dims:])`: [..., D…] with scale and shift of shape [D…] (nil: 1 and 0).
    public func layerNorm(dims: Int = 1, scale: Tensor? = nil, shift: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
        precondition(dims >= 1 && dims <= rank, "layerNorm over the last \(dims) dimensions of \(shape)")
        let normalizedShape = Array(shape.suffix(dims))
        let length = normalizedShape.reduce(1, *)
        let plan = NormPlan(rows: count / Swift.max(length, 1), segments: 1, segmentLength: length,
                            groups: 1, perElement: true, parameters: length)
        return normalized(plan, scale, shift, eps, name: "layerNorm", parameterShape: normalizedShape)
    }

    private func normalized(_ plan: NormPlan, _ scale: Tensor?, _ shift: Tensor?, _ eps: Float, name: String,
                            parameterShape: [Int]? = nil) -> Tensor {
        let pShape = parameterShape ?? [plan.parameters]
        for (label, t) in [("scale", scale), ("shift", shift)] {
            if let t { precondition(t.shape == pShape, "\(name): \(label) \(t.shape) should be \(pShape) for input \(shape)") }
        }
        let x = contiguousPlain()
        let gamma = scale?.contiguousPlain() ?? Tensor.ones([plan.parameters])
        let beta = shift?.contiguousPlain() ?? Tensor.zeros([plan.parameters])
        let y = Tensor.empty(shape)
        let mean = Buffer(count: plan.rows), rstd = Buffer(count: plan.rows)
        plan.forward(x.ptr, y.ptr, gamma.ptr, beta.ptr, mean.pointer, rstd.pointer, eps)
        let layout = self.layout
        let inputs = [self] + (scale.map { [$0] } ?? []) + (shift.map { [$0] } ?? [])
        return y.contiguous(layout).recorded(inputs) { g, needs in
            let gy = g.contiguousPlain()
            let gx = Tensor.empty(x.shape)
            let gs = Tensor.zeros(pShape), gb = Tensor.zeros(pShape)
            plan.backward(x.ptr, gy.ptr, gamma.ptr, mean.pointer, rstd.pointer, gx.ptr, gs.ptr, gb.ptr)
            var grads: [Tensor?] = [needs[0] ? gx.contiguous(layout) : nil]
            if scale != nil { grads.append(gs) }
            if shift != nil { grads.append(gb) }
            return grads
        }
    }
}

/// How a normalisation maps onto rows: `rows` runs of `segments × segmentLength` elements. With
/// `perElement == false` (group norm) parameter index = (row % groups) · segments + segment, constant over a
/// segment (one channel's H·W); with `perElement == true` (layer norm) it is the position within the row.
struct NormPlan {
    let rows: Int, segments: Int, segmentLength: Int, groups: Int
    let perElement: Bool
    let parameters: Int
    var length: Int { segments * segmentLength }

    /// Rows per parallel chunk: about 16k elements, at least one row.
    var minChunk: Int { Swift.max(1, 16_384 / Swift.max(length, 1)) }

    func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ gamma: UnsafeMutablePointer<Float>,
                 _ beta: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                 _ eps: Float) {
        let (length, segLen, segs) = (self.length, segmentLength, segments)
        Parallel.forRanges(rows, minChunk: minChunk) { range in
            for r in range {
                let row = x + r * length, out = y + r * length
                // two passes (mean, then squared deviations) so large offsets do not cancel
                let mu = Float(Elementwise.reduceSumSerial(length, row) / Double(length))
                let m = V16(repeating: mu)
                let variance = Elementwise.reduceSumSerial(length, row) { let d = $0 - m; return d * d } / Double(length)
                let rs = Float(1 / (variance + Double(eps)).squareRoot())
                mean[r] = mu; rstd[r] = rs
                if perElement {
                    Elementwise.map3Serial(length, row, gamma, beta, out) { v, a, b in (v - m) * rs * a + b }
                    continue
                }
                let base = (r % groups) * segs
                for s in 0..<segs {
                    // y = a·x + b with a = γ·rstd, b = β − μ·a: one multiply-add per element
                    let a = gamma[base + s] * rs, b = beta[base + s] - mu * a
                    Elementwise.mapSerial(segLen, row + s * segLen, out + s * segLen) { $0 * a + b }
                }
            }
        }
    }

    /// Writes dx into `gx` and dγ, dβ into `gs`, `gb` (which must be zeroed).
    func backward(_ x: UnsafeMutablePointer<Float>, _ gy: UnsafeMutablePointer<Float>, _ gamma: UnsafeMutablePointer<Float>,
                  _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                  _ gx: UnsafeMutablePointer<Float>, _ gs: UnsafeMutablePointer<Float>, _ gb: UnsafeMutablePointer<Float>) {
        let (length, segLen, segs, rows) = (self.length, segmentLength, segments, self.rows)
        // Per-(row, segment) sums of dy and dy·x̂: they give the group-norm parameter gradients and the row means.
        let partialDy = Buffer(count: perElement ? 0 : rows * segs), partialDyX = Buffer(count: perElement ? 0 : rows * segs)
        // Layer norm: dy·x̂ per element, summed over rows afterwards for dγ.
        let dyXhat = Buffer(count: perElement ? rows * length : 0)
        Parallel.forRanges(rows, minChunk: minChunk) { range in
            for r in range {
                let row = x + r * length, g = gy + r * length, out = gx + r * length
                let mu = mean[r], rs = rstd[r]
                let m = V16(repeating: mu)
                var m1 = 0.0, m2 = 0.0   // Σ dx̂ and Σ dx̂·x̂ over the row
                if perElement {
                    m1 = Elementwise.reduceSum2Serial(length, g, gamma) { $0 * $1 }
                    m2 = Elementwise.reduceSum3Serial(length, g, gamma, row) { d, a, v in d * a * (v - m) * rs }
                } else {
                    let base = (r % groups) * segs
                    for s in 0..<segs {
                        let sg = Elementwise.reduceSumSerial(segLen, g + s * segLen)
                        let sgx = Elementwise.reduceSum2Serial(segLen, g + s * segLen, row + s * segLen) { d, v in d * (v - m) * rs }
                        partialDy.pointer[r * segs + s] = Float(sg)
                        partialDyX.pointer[r * segs + s] = Float(sgx)
                        m1 += Double(gamma[base + s]) * sg
                        m2 += Double(gamma[base + s]) * sgx
                    }
                }
                let k1 = Float(m1 / Double(length)), k2 = Float(m2 / Double(length))
                if perElement {
                    Elementwise.map3Serial(length, g, gamma, row, out) { d, a, v in rs * (d * a - k1 - (v - m) * rs * k2) }
                    Elementwise.map2Serial(length, g, row, dyXhat.pointer + r * length) { d, v in d * (v - m) * rs }
                    continue
                }
                let base = (r % groups) * segs
                for s in 0..<segs {
                    let a = gamma[base + s]
                    Elementwise.map2Serial(segLen, g + s * segLen, row + s * segLen, out + s * segLen) { d, v in
                        rs * (d * a - k1 - (v - m) * rs * k2)
                    }
                }
            }
        }
        if perElement {
            reduceAxisKernel(dyXhat.pointer, 1, rows, length, gs)
            reduceAxisKernel(gy, 1, rows, length, gb)
            return
        }
        // dγ[c], dβ[c]: sum the per-(image, channel) partials over images (tiny: N·C values).
        for r in 0..<rows {
            let base = (r % groups) * segs
            for s in 0..<segs {
                gs[base + s] += partialDyX.pointer[r * segs + s]
                gb[base + s] += partialDy.pointer[r * segs + s]
            }
        }
    }
}
