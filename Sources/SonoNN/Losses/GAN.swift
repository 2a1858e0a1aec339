import SonoTensor
/// Non-saturating GAN losses (Goodfellow et al. 2014) on discriminator logits of any shape (per image [N, 1] or
/// per patch [N, 1, H, W]). Both are binary cross-entropies with constant targets, so they run on the fused
/// BCE primitive: softplus(−x) = −log σ(x) and softplus(x) = −log(1 − σ(x)), computed without overflow.

/// Generator: mean −log σ(D(G(z))), i.e. push the discriminator's logits on fakes up.
public func ganGeneratorLoss(fakeLogits: Tensor) -> Tensor {
    binaryCrossEntropyWithLogits(fakeLogits, Tensor.ones(fakeLogits.shape))
}

/// Discriminator: mean −log σ(D(real)) + mean −log(1 − σ(D(fake))). Pass `fakeLogits` computed from detached
/// generator output so this loss does not train the generator.
public func ganDiscriminatorLoss(realLogits: Tensor, fakeLogits: Tensor) -> Tensor {
    binaryCrossEntropyWithLogits(realLogits, Tensor.ones(realLogits.shape)) +
        binaryCrossEntropyWithLogits(fakeLogits, Tensor.zeros(fakeLogits.shape))
}
