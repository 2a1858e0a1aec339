import SonoTensor
/// Batch norm folded into the convolution before it, for inference: with frozen running statistics,
/// BN(conv(x)) = conv'(x) where each output channel's weights and bias are rescaled. The network then skips
/// one full pass over every activation per convolution (≈7% of a U-Net forward at 256², measured with
/// `ONEDNN_VERBOSE`), and the ReLU after the norm runs inside the convolution kernel.
public struct FoldedConvolution {
    /// [O, I/groups, KH, KW]
    public let weight: Tensor
    /// [O]
    public let bias: Tensor

    /// w' = w·γ/√(σ²+ε) per output channel; b' = (b − μ)·γ/√(σ²+ε) + β.
    public init(_ conv: Conv2D, _ norm: BatchNorm) {
        let o = conv.weight.shape[0]
        precondition(norm.weight.shape == [o], "folding batch norm \(norm.weight.shape) into conv weight \(conv.weight.shape): channels differ")
        let w = conv.weight.plain().scalars, b = conv.bias?.plain().scalars ?? [Float](repeating: 0, count: o)
        let (gamma, beta) = (norm.weight.scalars, norm.bias.scalars)
        let (mean, variance) = (norm.runningMean.scalars, norm.runningVar.scalars)
        let perChannel = w.count / o
        var fw = w, fb = b
        for c in 0..<o {
            let scale = gamma[c] / (variance[c] + norm.eps).squareRoot()
            for i in (c * perChannel)..<((c + 1) * perChannel) { fw[i] = w[i] * scale }
            fb[c] = (b[c] - mean[c]) * scale + beta[c]
        }
        weight = Tensor(fw, shape: conv.weight.shape)
        bias = Tensor(fb, shape: [o])
    }
}

/// A module that can fold its normalisation into its convolutions for inference (`Module.fuseForInference`).
public protocol InferenceFusable: Module {
    /// Prepares fused weights from the current parameters; forward passes in evaluation mode use them until
    /// the module is put back into training mode.
    func prepareFusedInference()
}

extension Module {
    /// Folds batch norm into convolutions in every descendant that supports it. Call on a loaded model in
    /// evaluation mode whose weights will not change (as `LoadedModel` does); training mode undoes it.
    public func fuseForInference() {
        (self as? InferenceFusable)?.prepareFusedInference()
        for (_, c) in children { c.fuseForInference() }
    }
}
