import SonoBase
/// Random augmentation applied to training samples. Each transform fires with its probability and draws
/// its strength from its range. Geometric transforms move image and mask identically; intensity transforms
/// touch only the image (values on the [0, 1] grey scale). Missing keys in a JSON file take the defaults.
public struct AugmentationConfig: Codable, Sendable, Equatable, DefaultDecodable {
    // Geometry
    public var horizontalFlipProbability = 0.5
    /// Off by default: in ultrasound the skin line is always at the top.
    public var verticalFlipProbability = 0.0
    public var rotationProbability = 0.5
    /// Degrees, drawn uniformly in ±this.
    public var maxRotationDegrees = 15.0
    public var scaleProbability = 0.5
    /// Zoom factor (> 1 enlarges the content).
    public var scaleRange = Interval(0.85, 1.15)
    public var translationProbability = 0.5
    /// Shift, as a fraction of width/height, drawn uniformly in ±this.
    public var maxTranslationFraction = 0.1
    public var elasticProbability = 0.2
    /// Typical displacement of the elastic field in pixels.
    public var elasticAlpha = 4.0
    /// Spacing of the elastic field's control grid in pixels (larger = smoother).
    public var elasticGridSpacing = 32.0
    // Intensity
    public var brightnessProbability = 0.5
    /// Additive offset drawn in ±this.
    public var maxBrightness = 0.1
    public var contrastProbability = 0.5
    /// Multiplier about the image mean.
    public var contrastRange = Interval(0.8, 1.2)
    public var gammaProbability = 0.3
    public var gammaRange = Interval(0.7, 1.5)
    public var gaussianNoiseProbability = 0.2
    /// Standard deviation drawn in [0, this].
    public var maxGaussianNoiseStd = 0.03
    /// Multiplicative noise x·(1 + n), n ~ N(0, σ²): ultrasound speckle.
    public var speckleProbability = 0.2
    public var maxSpeckleStd = 0.15
    public var blurProbability = 0.1
    /// Gaussian blur sigma in pixels.
    public var blurSigmaRange = Interval(0.5, 1.2)
    // Scanner appearance (off by default; `ScannerAugmentation.swift`): what another hospital's machine changes.
    /// A smooth gain profile over depth, as time-gain compensation set by another sonographer gives.
    public var gainCurveProbability = 0.0
    /// Largest log-gain at any of the profile's knots (0.4: ×0.67 to ×1.5).
    public var maxLogGain = 0.4
    /// Caliper crosses and a dotted measuring line drawn at random places, so marks do not say "lesion here".
    public var marksProbability = 0.0
    /// 8×8 block-DCT quantisation, as a JPEG-compressing scanner or PACS export leaves.
    public var compressionProbability = 0.0
    /// Quantisation step of the DCT coefficients on the [0, 1] scale (0.02 mild to 0.12 heavy).
    public var compressionStepRange = Interval(0.02, 0.12)

    public init() {}

    /// Whether any scanner-appearance transform can fire (none: no random numbers are drawn for them, so
    /// recipes without them draw exactly what they drew before these existed).
    public var scannerAppearance: Bool { gainCurveProbability > 0 || marksProbability > 0 || compressionProbability > 0 }

    /// No augmentation at all (validation, inference, benchmarks of decoding alone).
    public static var none: AugmentationConfig {
        var c = AugmentationConfig()
        c.horizontalFlipProbability = 0; c.verticalFlipProbability = 0; c.rotationProbability = 0
        c.scaleProbability = 0; c.translationProbability = 0; c.elasticProbability = 0
        c.brightnessProbability = 0; c.contrastProbability = 0; c.gammaProbability = 0
        c.gaussianNoiseProbability = 0; c.speckleProbability = 0; c.blurProbability = 0
        c.gainCurveProbability = 0; c.marksProbability = 0; c.compressionProbability = 0
        return c
    }

    enum CodingKeys: String, CodingKey {
        case horizontalFlipProbability, verticalFlipProbability, rotationProbability, maxRotationDegrees,
             scaleProbability, scaleRange, translationProbability, maxTranslationFraction, elasticProbability,
             elasticAlpha, elasticGridSpacing, brightnessProbability, maxBrightness, contrastProbability,
             contrastRange, gammaProbability, gammaRange, gaussianNoiseProbability, maxGaussianNoiseStd,
             speckleProbability, maxSpeckleStd, blurProbability, blurSigmaRange, gainCurveProbability, maxLogGain,
             marksProbability, compressionProbability, compressionStepRange
    }

}
