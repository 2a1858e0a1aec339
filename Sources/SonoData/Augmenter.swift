import Foundation
import SonoBase
import SonoImaging

/// Applies an `AugmentationConfig` to one image/mask pair. All randomness comes from the RNG passed in, so
/// the result depends only on the config, the inputs and the RNG's state.
public struct Augmenter: Sendable {
    public var config: AugmentationConfig

    public init(_ config: AugmentationConfig) { self.config = config }

    public func apply(image: GrayImage, mask: Mask, rng: inout RandomGenerator) -> (image: GrayImage, mask: Mask) {
        var (image, mask) = geometry(image: image, mask: mask, rng: &rng)
        intensity(&image, rng: &rng)
        scanner(&image, rng: &rng)
        return (image, mask)
    }

    /// Flips, rotation, zoom, shift and elastic deformation, composed into a single resampling pass
    /// (bilinear for the image, nearest for the mask) so the image is interpolated only once.
    public func geometry(image: GrayImage, mask: Mask, rng: inout RandomGenerator) -> (image: GrayImage, mask: Mask) {
        let c = config
        let w = Double(image.width), h = Double(image.height)
        // Draw every parameter in a fixed order, whether or not the transform fires, so that changing one
        // probability does not reshuffle the other transforms' random numbers.
        let flipH = rng.chance(c.horizontalFlipProbability), flipV = rng.chance(c.verticalFlipProbability)
        let rotate = rng.chance(c.rotationProbability)
        let angle = rng.uniform(-c.maxRotationDegrees, c.maxRotationDegrees) * Double.pi / 180
        let zoom = rng.chance(c.scaleProbability), factor = c.scaleRange.sample(&rng)
        let shift = rng.chance(c.translationProbability)
        let tx = rng.uniform(-c.maxTranslationFraction, c.maxTranslationFraction) * w
        let ty = rng.uniform(-c.maxTranslationFraction, c.maxTranslationFraction) * h
        let elastic = rng.chance(c.elasticProbability)
        let field = elastic ? displacementField(width: image.width, height: image.height, rng: &rng) : nil
        guard flipH || flipV || rotate || zoom || shift || elastic else { return (image, mask) }

        // Forward map (source → output) about the pixel-grid centre, then inverted for sampling.
        let cx = (w - 1) / 2, cy = (h - 1) / 2
        var forward = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: -cx, ty: -cy)
        func then(_ t: AffineMap) { forward = t.concatenating(forward) }
        if flipH || flipV { then(AffineMap(a: flipH ? -1 : 1, b: 0, c: 0, d: flipV ? -1 : 1, tx: 0, ty: 0)) }
        if zoom { then(AffineMap(a: factor, b: 0, c: 0, d: factor, tx: 0, ty: 0)) }
        if rotate { then(AffineMap(a: cos(angle), b: -sin(angle), c: sin(angle), d: cos(angle), tx: 0, ty: 0)) }
        then(AffineMap(a: 1, b: 0, c: 0, d: 1, tx: cx + (shift ? tx : 0), ty: cy + (shift ? ty : 0)))
        guard let inverse = forward.inverted() else { return (image, mask) }
        return (Warp.apply(image, outputToSource: inverse, displacement: field),
                Warp.apply(mask, outputToSource: inverse, displacement: field))
    }

    /// Smooth random displacements: normal values on a coarse control grid, upsampled bilinearly.
    func displacementField(width: Int, height: Int, rng: inout RandomGenerator) -> DisplacementField {
        let spacing = max(2, config.elasticGridSpacing)
        let gw = max(2, Int((Double(width) / spacing).rounded(.up)) + 1)
        let gh = max(2, Int((Double(height) / spacing).rounded(.up)) + 1)
        func grid() -> [Float] {
            let coarse = GrayImage(width: gw, height: gh, pixels: (0..<(gw * gh)).map { _ in Float(rng.normalDouble() * config.elasticAlpha) })
            return coarse.resized(width: width, height: height, method: .bilinear).pixels
        }
        let dx = grid(), dy = grid()
        return DisplacementField(width: width, height: height, dx: dx, dy: dy)
    }

    /// Brightness, contrast, gamma, blur, speckle and Gaussian noise, then clamping to [0, 1].
    public func intensity(_ image: inout GrayImage, rng: inout RandomGenerator) {
        let c = config
        let brightness = rng.chance(c.brightnessProbability), offset = Float(rng.uniform(-c.maxBrightness, c.maxBrightness))
        let contrast = rng.chance(c.contrastProbability), contrastFactor = Float(c.contrastRange.sample(&rng))
        let gamma = rng.chance(c.gammaProbability), exponent = Float(c.gammaRange.sample(&rng))
        let blur = rng.chance(c.blurProbability), sigma = Float(c.blurSigmaRange.sample(&rng))
        let speckle = rng.chance(c.speckleProbability), speckleStd = rng.uniform(0, c.maxSpeckleStd)
        let noise = rng.chance(c.gaussianNoiseProbability), noiseStd = rng.uniform(0, c.maxGaussianNoiseStd)
        guard brightness || contrast || gamma || blur || speckle || noise else { return }

        if brightness { for i in image.pixels.indices { image.pixels[i] += offset } }
        if contrast {
            let mean = image.pixels.reduce(0, +) / Float(max(1, image.pixels.count))
            for i in image.pixels.indices { image.pixels[i] = mean + (image.pixels[i] - mean) * contrastFactor }
        }
        if gamma { for i in image.pixels.indices { image.pixels[i] = powf(min(1, max(0, image.pixels[i])), exponent) } }
        if blur { image = image.gaussianBlurred(sigma: sigma) }
        // Noise values come from their own stream so their count (one per pixel) cannot shift other draws.
        var noiseRNG = RandomGenerator(seed: rng.next())
        if speckle { for i in image.pixels.indices { image.pixels[i] *= 1 + Float(noiseRNG.normalDouble() * speckleStd) } }
        if noise { for i in image.pixels.indices { image.pixels[i] += Float(noiseRNG.normalDouble() * noiseStd) } }
        for i in image.pixels.indices { image.pixels[i] = min(1, max(0, image.pixels[i])) }
    }
}
