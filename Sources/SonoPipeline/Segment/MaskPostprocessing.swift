import SonoImaging

/// How a probability map becomes the mask `sonoseg segment` writes: threshold, then optionally fill holes and
/// keep the largest connected lesion. `sonoseg evaluate` applies the same steps when asked, so it can score
/// exactly what users get.
public struct MaskPostprocessing: Codable, Equatable, Sendable {
    public var fillHoles = false
    public var largestComponent = false

    public init(fillHoles: Bool = false, largestComponent: Bool = false) {
        (self.fillHoles, self.largestComponent) = (fillHoles, largestComponent)
    }

    /// Pixels with probability ≥ `threshold` are lesion; then the enabled steps, holes first.
    public func mask(from probability: GrayImage, threshold: Float) -> Mask {
        var mask = Mask(width: probability.width, height: probability.height,
                        pixels: probability.pixels.map { $0 >= threshold ? 1 : 0 })
        if fillHoles { mask = mask.fillingHoles() }
        if largestComponent { mask = mask.largestComponent() }
        return mask
    }
}
