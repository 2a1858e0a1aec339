import XCTest
import SonoTestSupport
@testable import SonoNN
import SonoTensor

/// Every loss against PyTorch: the value and the gradient with respect to the logits.
final class GoldenLossTests: XCTestCase {
    func testLossesMatchPyTorch() throws {
        let golden = try GoldenFile.load("golden_losses", bundle: .module)
        XCTAssertGreaterThanOrEqual(golden.cases.count, 18, "golden_losses.json lost cases")
        for c in golden.cases {
            if c.op == "batchnorm_layer" { checkBatchNormLayer(c); continue }
            let x = c.input("logits")
            x.requiresGrad = true
            guard let loss = loss(c, x) else { XCTFail("\(c.name): unknown op \(c.op)"); continue }
            loss.backward()
            c.check("loss", loss.reshaped([1]))
            guard let g = x.grad else { XCTFail("\(c.name): no gradient"); continue }
            c.check("grad", g)
        }
    }

    private func loss(_ c: GoldenCase, _ x: Tensor) -> Tensor? {
        let y = c.inputs["target"]?.tensor
        switch c.op {
        case "bce": return bceWithLogitsLoss(x, y!, weight: c.inputs["weight"]?.tensor, positiveWeight: c.float("positive_weight", default: 1))
        case "dice": return softDiceLoss(x, y!, smooth: c.float("smooth"), emptyMasks: c.int("exclude") == 1 ? .exclude : .smooth)
        case "bce_dice":
            return bceDiceLoss(x, y!, bceWeight: c.float("bce_weight"), diceWeight: c.float("dice_weight"),
                               smooth: c.float("smooth"), positiveWeight: c.float("positive_weight"))
        case "tversky": return tverskyLoss(x, y!, alpha: c.float("alpha"), beta: c.float("beta"), smooth: c.float("smooth"))
        case "focal": return focalLoss(x, y!, alpha: c.float("alpha"), gamma: c.float("gamma"))
        case "kld_binary": return binaryPixelwiseKLDivergence(x, y!, epsilon: c.float("epsilon"))
        case "kld": return pixelwiseKLDivergence(x, y!, epsilon: c.float("epsilon"))
        case "cross_entropy":
            return crossEntropyLoss(x, targets: c.input("targets").scalars.map { Int($0) },
                                    classWeights: c.inputs["class_weights"]?.data,
                                    ignoreIndex: c.params["ignore_index"].map { Int($0[0]) })
        case "mse": return mseLoss(x, y!)
        case "l1": return l1Loss(x, y!)
        case "gan_generator": return ganGeneratorLoss(fakeLogits: x)
        case "gan_discriminator": return ganDiscriminatorLoss(realLogits: c.input("real"), fakeLogits: x)
        default: return nil
        }
    }

    /// SonoNN's BatchNorm layer in training mode: output and running statistics after one step.
    private func checkBatchNormLayer(_ c: GoldenCase) {
        let x = c.input("x")
        let bn = BatchNorm(channels: x.shape[1])
        let y = bn(x)
        c.check("y", y)
        c.check("running_mean", bn.runningMean)
        c.check("running_var", bn.runningVar)
    }
}
