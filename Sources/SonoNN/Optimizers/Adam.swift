/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019):
///   m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²,  θ ← θ - lr · m̂ / (√v̂ + ε)
/// with bias corrections m̂ = m / (1-β1ᵗ), v̂ = v / (1-β2ᵗ). Adam adds weight decay to g (L2);
/// AdamW shrinks θ by lr·λ directly (decoupled).
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool
    public private(set) var step = 0
    var m: [String: Buffer] = [:], v: [String: Buffer] = [:]

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        precondition(eps > 0 && weightDecay >= 0, "Adam: eps must be > 0 and weight decay >= 0")
        (self.beta1, self.beta2, self.eps, self.weightDecay, self.decoupled) = (beta1, beta2, eps, weightDecay, decoupled)
    }

    public func update(_ parameters: [(String, Tensor)], learningRate lr: Float) {
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Float(step)), c2 = 1 - Foundation.pow(beta2, Float(step))
        let (b1, b2, eps, wd, decoupled) = (beta1, beta2, eps, weightDecay, self.decoupled)
        for (name, p) in parameters {
            guard let g = p.grad?.plainStorage() else { continue }
            let n = p.count
            let mb = m[name] ?? Buffer(zeros: n), vb = v[name] ?? Buffer(zeros: n)
            m[name] = mb; v[name] = vb
            let theta = p.buffer.pointer, grad = g.buffer.pointer, mp = mb.pointer, vp = vb.pointer
            let stepSize = lr / c1, invC2 = 1 / c2
            Parallel.forRanges(n, minChunk: 16_384) { r in
                for i in r {
                    var gi = grad[i]
                    if !decoupled { gi += wd * theta[i] } else { theta[i] -= lr * wd * theta[i] }
                    mp[i] = b1 * mp[i] + (1 - b1) * gi
                    vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                    theta[i] -= stepSize * mp[i] / ((vp[i] * invC2).squareRoot() + eps)
                }
            }
        }
    }

    public func state() -> [(String, Tensor)] {
        m.map { ("m." + $0.key, Tensor(shape: [$0.value.count], buffer: $0.value)) } +
            v.map { ("v." + $0.key, Tensor(shape: [$0.value.count], buffer: $0.value)) } +
            [("step", Tensor(Float(step)))]
    }

    public func load(state: [String: Tensor]) {
        for (k, t) in state {
            if k == "step" { step = Int(t.item) } else if k.hasPrefix("m.") { m[String(k.dropFirst(2))] = t.plainStorage().buffer.copy() } else if k.hasPrefix("v.") { v[String(k.dropFirst(2))] = t.plainStorage().buffer.copy() }
        }
    }
}

import Foundation
