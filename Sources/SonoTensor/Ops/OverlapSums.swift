import SonoKernels
/// Per-image soft overlap statistics of sigmoid probabilities and a target mask, fused: the building block of
/// soft Dice and Tversky losses. Composing them from σ, ·, and three axis sums would take about ten passes
/// over the image forward and backward; this takes one each way, and the losses are then a few scalar ops on
/// the tiny [N, 3] result.
extension Tensor {
    /// logits [N, …], target [N, …] (same shape, values in [0, 1]) → [N, 3] with, per image n,
    /// (Σ p, Σ y, Σ p·y) over all its elements, p = σ(logits). Gradient reaches the logits only:
    /// d/dx_j = p_j (1 − p_j) · (g_Σp + g_Σpy · y_j).
    public static func sigmoidOverlapSums(logits: Tensor, target: Tensor) -> Tensor {
        precondition(logits.shape == target.shape && logits.rank >= 1,
                     "sigmoidOverlapSums: logits \(logits.shape) and target \(target.shape) should match, [N, …]")
        let x = logits.contiguousPlain(), y = target.contiguousPlain()
        let images = x.shape[0], per = x.count / Swift.max(images, 1)
        let out = Tensor.empty([images, 3])
        // Parallel over images; an image's sums are serial SIMD reductions.
        let chunk = Swift.max(1, 32_768 / Swift.max(per, 1))   // images per worker: small batches stay on one thread
        Parallel.forRanges(images, minChunk: chunk) { r in
            for n in r {
                let xp = x.ptr + n * per, yp = y.ptr + n * per
                out.ptr[n * 3] = Float(Elementwise.reduceSumSerial(per, xp) { vsigmoid($0) })
                out.ptr[n * 3 + 1] = Float(Elementwise.reduceSumSerial(per, yp))
                out.ptr[n * 3 + 2] = Float(Elementwise.reduceSum2Serial(per, xp, yp) { vsigmoid($0) * $1 })
            }
        }
        let shape = logits.shape, layout = logits.layout
        return out.recorded([logits]) { g, _ in
            let gp = g.contiguousPlain()
            let gx = Tensor.empty(shape)
            Parallel.forRanges(images, minChunk: chunk) { r in
                for n in r {
                    let gSum = gp.ptr[n * 3], gOverlap = gp.ptr[n * 3 + 2]
                    Elementwise.map2Serial(per, x.ptr + n * per, y.ptr + n * per, gx.ptr + n * per) { x, y in
                        let p = vsigmoid(x)
                        return p * (1 - p) * (gSum + gOverlap * y)
                    }
                }
            }
            return [gx.contiguous(layout)]
        }
    }
}
