import SonoBase
import XCTest
import SonoTestSupport
import SonoPipeline
import SonoModels
import SonoTensor

/// Multi-head attention and a whole ViT against central finite differences.
final class AttentionGradientTests: XCTestCase {
    func testAttentionGradients() {
        var rng = SplitMix64(seed: 11)
        let (b, t, d) = (2, 5, 8)
        let inputs = [rng.tensor([b, t, d]), rng.tensor([3 * d, d], lo: -0.5, hi: 0.5), rng.tensor([3 * d], lo: -0.2, hi: 0.2),
                      rng.tensor([d, d], lo: -0.5, hi: 0.5), rng.tensor([d], lo: -0.2, hi: 0.2)]
        checkGradients(inputs, samples: 16) { a in
            MultiHeadSelfAttention.attention(a[0], heads: 2, inProjWeight: a[1], inProjBias: a[2], outProjWeight: a[3], outProjBias: a[4]).output
        }
    }

    func testAttentionWeightsAreRowStochastic() {
        var rng = RandomGenerator(seed: 4)
        let attention = MultiHeadSelfAttention(dim: 8, heads: 4, rng: &rng)
        let (w, y) = attention.attend(Tensor.normal([3, 6, 8], rng: &rng))
        XCTAssertEqual(w.shape, [12, 6, 6])
        XCTAssertEqual(y.shape, [3, 6, 8])
        let v = w.scalars
        for row in 0..<(12 * 6) { XCTAssertEqual(v[(row * 6)..<(row * 6 + 6)].reduce(0, +), 1, accuracy: 1e-5) }
    }

    /// Through patch embedding, class token, position embedding, pre-norm blocks and the head.
    func testViTInputGradient() {
        var c = ViTConfig(); (c.imageSize, c.patchSize, c.dim, c.depth, c.heads, c.mlpDim, c.dropout, c.classes) = (16, 8, 16, 1, 2, 32, 0, 3)
        var g = RandomGenerator(seed: 5)
        let vit = VisionTransformer(c, rng: &g)
        var rng = SplitMix64(seed: 12)
        checkGradients([rng.tensor([2, 1, 16, 16])], samples: 12) { vit($0[0]) }
    }
}
