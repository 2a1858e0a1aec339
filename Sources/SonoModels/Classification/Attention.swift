import SonoBase
import SonoNN
import SonoTensor
/// Multi-head self-attention as PyTorch's `nn.MultiheadAttention` (batch first, no masks): one packed input
/// projection `in_proj_weight` [3D, D] / `in_proj_bias` [3D] and `out_proj` (Linear D → D).
///
/// x [B, T, D] → [B, T, D]; per head h: softmax(Q_h K_hᵀ / √(D/H)) V_h, heads run as one batched matmul.
public final class MultiHeadSelfAttention: Layer {
    public let dim: Int, heads: Int
    public let inProjWeight: Tensor, inProjBias: Tensor
    public let outProj: Linear
    public var isTraining = true

    public init(dim: Int, heads: Int, rng: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0, "MultiHeadSelfAttention: dim \(dim) does not split into \(heads) heads")
        (self.dim, self.heads) = (dim, heads)
        let bound = (6 / Float(dim + 3 * dim)).squareRoot()   // Xavier-uniform, as PyTorch
        inProjWeight = Tensor.uniform([3 * dim, dim], lo: -bound, hi: bound, rng: &rng, requiresGrad: true)
        inProjBias = Tensor.zeros([3 * dim], requiresGrad: true)
        outProj = Linear(inputFeatures: dim, outputFeatures: dim, rng: &rng)
        outProj.bias?.assign(Tensor.zeros([dim]))
    }

    public var ownParameters: [(String, Tensor)] { [("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias)] }
    public var children: [(String, Module)] { [("out_proj", outProj)] }

    /// x [B, T, D] → attention weights [B·H, T, T] and the output [B, T, D].
    public func attend(_ x: Tensor) -> (weights: Tensor, output: Tensor) {
        MultiHeadSelfAttention.attention(x, heads: heads, inProjWeight: inProjWeight, inProjBias: inProjBias,
                                         outProjWeight: outProj.weight, outProjBias: outProj.bias)
    }

    /// The computation with explicit weights (for gradient checks): x [B, T, D], in-projection [3D, D] / [3D],
    /// out-projection [D, D] / [D] → weights [B·H, T, T] and output [B, T, D].
    public static func attention(_ x: Tensor, heads h: Int, inProjWeight: Tensor, inProjBias: Tensor?,
                                 outProjWeight: Tensor, outProjBias: Tensor?) -> (weights: Tensor, output: Tensor) {
        let dim = outProjWeight.shape[0]
        precondition(x.rank == 3 && x.shape[2] == dim && inProjWeight.shape == [3 * dim, dim] && dim % h == 0,
                     "attention: input \(x.shape) must be [B, T, \(dim)] with in-projection [\(3 * dim), \(dim)], got \(inProjWeight.shape)")
        let (b, t) = (x.shape[0], x.shape[1])
        let dh = dim / h
        // [B·T, 3D] → [3, B, H, T, dh]
        let qkv = x.reshaped([b * t, dim]).linear(inProjWeight, bias: inProjBias)
            .reshaped([b, t, 3, h, dh]).permuted([2, 0, 3, 1, 4])
        let parts = qkv.split(axis: 0, sizes: [1, 1, 1]).map { $0.reshaped([b * h, t, dh]) }
        let scores = parts[0].matmul(parts[1].transposed()) * (1 / Float(dh).squareRoot())
        let weights = scores.softmax(axis: 2)
        let context = weights.matmul(parts[2])                       // [B·H, T, dh]
            .reshaped([b, h, t, dh]).permuted([0, 2, 1, 3]).reshaped([b * t, dim])
        return (weights, context.linear(outProjWeight, bias: outProjBias).reshaped([b, t, dim]))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { attend(x).output }
}
