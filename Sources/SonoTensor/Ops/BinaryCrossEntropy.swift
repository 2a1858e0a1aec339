import SonoKernels
/// Binary cross-entropy on logits, fused: loss_i = w_i · [pw · y · softplus(-x) + (1 - y) · softplus(x)],
/// mean over elements. Gradient: w_i · [(1 - y) σ(x) - pw · y (1 - σ(x))] / N, one SIMD pass.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, positiveWeight: Float = 1) -> Tensor {
    precondition(logits.shape == target.shape, "binaryCrossEntropyWithLogits: logits \(logits.shape) and target \(target.shape) differ")
    // logits.plain() records the layout change, so blocked logits still receive their gradient
    let x = logits.plain(), y = target.contiguousPlain()
    let w = weight?.broadcast(to: x.shape).contiguousPlain()
    let n = x.count
    let pw = positiveWeight
    let loss: Double
    if let w {
        let per = Tensor.empty(x.shape)
        Elementwise.map3(n, x.buffer.pointer, y.buffer.pointer, w.buffer.pointer, per.buffer.pointer) { x, y, w in
            w * (pw * y * vsoftplus(-x) + (1 - y) * vsoftplus(x))
        }
        loss = Elementwise.reduceSum(n, per.buffer.pointer) { $0 }
    } else {
        loss = Elementwise.reduceSum2(n, x.buffer.pointer, y.buffer.pointer) { x, y in pw * y * vsoftplus(-x) + (1 - y) * vsoftplus(x) }
    }
    let out = Tensor(Float(loss / Double(n)))
    return out.recordedLoss([x]) { g in
        let gx = Tensor.empty(x.shape)
        let s = g / Float(n)
        if let w {
            Elementwise.map3(n, x.buffer.pointer, y.buffer.pointer, w.buffer.pointer, gx.buffer.pointer) { x, y, w in
                let p = vsigmoid(x)
                return s * w * ((1 - y) * p - pw * y * (1 - p))
            }
        } else {
            Elementwise.map2(n, x.buffer.pointer, y.buffer.pointer, gx.buffer.pointer) { x, y in
                let p = vsigmoid(x)
                return s * ((1 - y) * p - pw * y * (1 - p))
            }
        }
        return [gx]
    }
}
