import SonoBase
import XCTest
@testable import SonoModels
import SonoTensor

final class UNetTests: XCTestCase {
    func make(_ edit: (inout UNetConfig) -> Void) -> UNet {
        var c = UNetConfig()
        edit(&c)
        var rng = RandomGenerator(seed: 0)
        return UNet(c, rng: &rng)
    }

    /// Reference counts from shared/bench/torch_reference.py's UNet(base, depth) minus the biases of the
    /// convolutions that feed batch norm (SonoSeg leaves those out: the norm's shift makes them redundant):
    /// base 32 depth 4: 7,765,409 - 2,944 = 7,762,465; base 16: 1,943,761 - 1,472 = 1,942,289;
    /// base 8 depth 2: 29,641 - 160 = 29,481.
    func testParameterCountsMatchPyTorchReference() {
        XCTAssertEqual(make { _ in }.parameterCount, 7_762_465)
        XCTAssertEqual(make { $0.baseChannels = 16 }.parameterCount, 1_942_289)
        XCTAssertEqual(make { $0.baseChannels = 8; $0.depth = 2 }.parameterCount, 29_481)
    }

    func testVariantsShapesAndCounts() {
        let x = Tensor.zeros([2, 1, 32, 48])
        let variants: [(String, (inout UNetConfig) -> Void, Int)] = [
            ("transposed", { _ in }, 29_481),
            // nearest/bilinear: 3x3 conv instead of 2x2 transposed: 16·8·9+8 - (16·8·4+8) = 640 more, 32·16·9+16 - (32·16·4+16) = 2,560 more
            ("nearest", { $0.upsampling = .nearest }, 29_481 + 640 + 2_560),
            ("bilinear", { $0.upsampling = .bilinear }, 29_481 + 640 + 2_560),
            // no norm: convs get biases (8+8+16+16+32+32+8+8+16+16 = 160), norms' 2·C params go (2·160)
            ("none", { $0.normalization = .none }, 29_481 + 160 - 320),
            ("instance", { $0.normalization = .instance }, 29_481),
            ("group", { $0.normalization = .group; $0.groups = 4 }, 29_481),
            // gates: per level C·C/2 (wx) + C·C/2 + C/2 (wg) + C/2 + 1 (psi): level 8 → 32+36+5, level 16 → 128+136+9
            ("attention", { $0.attentionGates = true }, 29_481 + 73 + 273),
            ("dropout", { $0.dropout = 0.3 }, 29_481),
        ]
        for (name, edit, count) in variants {
            let net = make { $0.baseChannels = 8; $0.depth = 2; edit(&$0) }
            XCTAssertEqual(net.parameterCount, count, name)
            let y = net(x)
            XCTAssertEqual(y.shape, [2, 1, 32, 48], name)
            net.setTraining(false)
            XCTAssertEqual(noGrad { net(x) }.shape, [2, 1, 32, 48], name)
        }
    }

    /// Batch norm folded into the convolutions gives the eval-mode output of the unfolded network; putting
    /// the network back into training mode drops the folded weights.
    func testFusedInferenceMatchesEvalMode() {
        let net = make { $0.baseChannels = 16; $0.depth = 2 }
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.normal([2, 1, 32, 32], rng: &rng)
        for _ in 0..<3 { _ = net(Tensor.normal([2, 1, 32, 32], rng: &rng) * 2 + 0.5) }  // non-trivial running stats
        net.setTraining(false)
        let reference = noGrad { net(x).scalars }
        net.fuseForInference()
        let fused = GradMode.inference { net(x).scalars }
        var worst: Float = 0
        for (a, b) in zip(reference, fused) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThan(worst, 1e-3)
        net.setTraining(true)
        net.setTraining(false)
        let again = noGrad { net(x).scalars }
        for (a, b) in zip(reference, again) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testNamesAreDottedAndUnique() {
        let names = make { $0.baseChannels = 8; $0.depth = 2; $0.attentionGates = true }.stateDict().map(\.0)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertTrue(names.contains("enc.0.conv1.weight"))
        XCTAssertTrue(names.contains("enc.0.norm1.running_mean"))
        XCTAssertTrue(names.contains("up.1.up.weight"))
        XCTAssertTrue(names.contains("gate.0.psi.bias"))
        XCTAssertTrue(names.contains("head.weight"))
    }

    func testDiscriminatorGivesOneLogitPerImage() {
        var rng = RandomGenerator(seed: 0)
        let d = Discriminator(rng: &rng)
        XCTAssertEqual(d(Tensor.zeros([3, 1, 64, 64])).shape, [3, 1])
        // kernels 7, 5, 4, 4, 4 as in Li et al.
        XCTAssertEqual(d.convs.map { $0.weight.shape[2] }, [7, 5, 4, 4, 4])
    }
}
