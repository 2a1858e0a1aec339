import SonoBase
import SonoImaging

/// How images become network inputs: resized to `width`×`height` (letterboxed to keep the aspect ratio, or
/// stretched), then normalised. Part of the disk cache key, so changing it invalidates cached images.
public struct PreprocessConfig: Codable, Sendable, Equatable {
    public enum ResizeMode: String, Codable, Sendable {
        /// Keep the aspect ratio and pad with black (the ultrasound background).
        case letterbox
        /// Stretch to fill; distorts lesion shape but uses every pixel.
        case stretch
    }

    /// Pixels.
    public var width = 256
    public var height = 256
    public var resize = ResizeMode.letterbox
    public var imageResampling = ImageResampling.area
    public var maskResampling = MaskResampling.areaThreshold
    public var normalization = IntensityNormalization()

    public init(width: Int = 256, height: Int = 256, resize: ResizeMode = .letterbox,
                imageResampling: ImageResampling = .area, maskResampling: MaskResampling = .areaThreshold,
                normalization: IntensityNormalization = IntensityNormalization()) {
        (self.width, self.height, self.resize, self.imageResampling) = (width, height, resize, imageResampling)
        (self.maskResampling, self.normalization) = (maskResampling, normalization)
    }

    enum CodingKeys: String, CodingKey { case width, height, resize, imageResampling, maskResampling, normalization }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.width, into: &width)
        try c.read(.height, into: &height)
        try c.read(.resize, into: &resize)
        try c.read(.imageResampling, into: &imageResampling)
        try c.read(.maskResampling, into: &maskResampling)
        try c.read(.normalization, into: &normalization)
    }

    /// Where an image of the given size lands in the network input.
    public func geometry(sourceWidth: Int, sourceHeight: Int) -> LetterboxGeometry {
        resize == .letterbox
            ? LetterboxGeometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight, targetWidth: width, targetHeight: height)
            : .stretch(sourceWidth: sourceWidth, sourceHeight: sourceHeight, targetWidth: width, targetHeight: height)
    }
}

/// A sample resized to the network size, not yet normalised (values in [0, 1]); what the disk cache stores.
public struct ResizedSample: Sendable, Equatable {
    public var image: GrayImage
    public var mask: Mask
    /// Maps predictions back to the original image (`Letterbox.invert`).
    public var geometry: LetterboxGeometry
}

/// Resizing and normalisation for training and inference.
public struct Preprocessor: Sendable {
    public var config: PreprocessConfig

    public init(_ config: PreprocessConfig) { self.config = config }

    /// Image and mask resized to the configured size.
    public func resize(image: GrayImage, mask: Mask) -> ResizedSample {
        let geometry = config.geometry(sourceWidth: image.width, sourceHeight: image.height)
        return ResizedSample(image: Letterbox.apply(image, geometry, method: config.imageResampling),
                             mask: Letterbox.apply(mask, geometry, method: config.maskResampling), geometry: geometry)
    }

    /// Inference input: `image` resized and normalised, plus the geometry that maps the network's output
    /// back (`Letterbox.invert(prediction, geometry)`).
    public func prepare(_ image: GrayImage) -> (input: GrayImage, geometry: LetterboxGeometry) {
        let geometry = config.geometry(sourceWidth: image.width, sourceHeight: image.height)
        let resized = Letterbox.apply(image, geometry, method: config.imageResampling)
        return (config.normalization.apply(to: resized), geometry)
    }
}

extension PreprocessConfig {
    /// Sizes no network input can have, naming the key and the allowed range (empty when fine).
    public var problems: [String] {
        var out: [String] = []
        for (key, value) in [("width", width), ("height", height)] where !(8...4096).contains(value) {
            out.append("preprocess.\(key) is \(value); allowed: 8-4096")
        }
        return out
    }
}
