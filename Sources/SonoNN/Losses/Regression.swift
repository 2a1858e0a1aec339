import SonoTensor
/// Element-wise regression losses, mean over elements; composed from tensor ops (one fused-enough chain of
/// SIMD passes). Shapes must match exactly: silent broadcasting of a target is a classic bug.

/// mean (prediction − target)²
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    precondition(prediction.shape == target.shape, "mseLoss: prediction \(prediction.shape) and target \(target.shape) differ")
    return (prediction - target).pow(2).mean()
}

/// mean |prediction − target| (gradient 0 where they are equal, as PyTorch's sign(0) = 0).
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    precondition(prediction.shape == target.shape, "l1Loss: prediction \(prediction.shape) and target \(target.shape) differ")
    return (prediction - target).abs().mean()
}
