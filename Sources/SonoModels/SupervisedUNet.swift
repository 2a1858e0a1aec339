import SonoBase
import SonoNN
import SonoTensor

/// A U-Net with 1x1 heads on its coarser decoder stages (Li et al.'s deep supervision): what a trained U-Net
/// model file holds. The heads shape training only; inference reads the finest output (`callAsFunction`).
/// Without deep supervision it has no heads and is the plain U-Net.
public final class SupervisedUNet: Module {
    public let unet: UNet
    /// Heads of the decoder stages above the finest (index 0 = second finest), each to `classes` channels.
    public let stageHeads: [Conv2D]
    public var isTraining = true

    /// `heads` extra stage heads (Li et al.'s 4 supervised stages = 3 heads plus the U-Net's own output).
    public init(_ config: UNetConfig, heads: Int, rng: inout RandomGenerator) {
        unet = UNet(config, rng: &rng)
        stageHeads = (0..<max(heads, 0)).map { k in
            Conv2D(inputChannels: config.baseChannels << (k + 1), outputChannels: config.classes, kernelSize: 1, rng: &rng)
        }
    }

    public var children: [(String, Module)] {
        [("unet", unet)] + stageHeads.enumerated().map { ("heads.\($0.offset)", $0.element as Module) }
    }

    /// Logits of the finest stage: [N, 1, H, W] → [N, classes, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor { unet(x) }

    /// Full-resolution logits of each supervised stage, finest first: [N, classes, H, W] each.
    public func stageLogits(_ x: Tensor) -> [Tensor] {
        let (stages, logits) = unet.features(x)
        let size = (x.shape[2], x.shape[3])
        var out = [logits]
        for (k, head) in stageHeads.enumerated() {
            let stage = stages[stages.count - 2 - k]
            out.append(head(stage).resized(to: size, mode: .bilinear))
        }
        return out
    }
}
