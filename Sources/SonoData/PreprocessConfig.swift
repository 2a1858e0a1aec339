import SonoBase
import SonoImaging

/// How images become network inputs: resized to `width`×`height` (letterboxed to keep the aspect ratio, or
/// stretched), then normalised. Part of the disk cache key, so changing it invalidates cached images.
public struct PreprocessConfig: Codable, Sendable, Equatable, DefaultDecodable {
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
    /// Classify a square window around the lesion instead of the whole frame (nil: the whole frame). Training
    /// takes the window from the ground-truth mask, inference from the segmenter's mask.
    public var crop: LesionCropConfig? = nil

    public init(width: Int = 256, height: Int = 256, resize: ResizeMode = .letterbox,
                imageResampling: ImageResampling = .area, maskResampling: MaskResampling = .areaThreshold,
                normalization: IntensityNormalization = IntensityNormalization()) {
        (self.width, self.height, self.resize, self.imageResampling) = (width, height, resize, imageResampling)
        (self.maskResampling, self.normalization) = (maskResampling, normalization)
    }
    public init() { self.init(width: 256) }

    enum CodingKeys: String, CodingKey { case width, height, resize, imageResampling, maskResampling, normalization, crop }


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
        if let crop = config.crop {
            let box = crop.box(around: mask)
            return Preprocessor(config.withoutCrop).resize(image: box.apply(image), mask: box.apply(mask))
        }
        let geometry = config.geometry(sourceWidth: image.width, sourceHeight: image.height)
        return ResizedSample(image: Letterbox.apply(image, geometry, method: config.imageResampling),
                             mask: Letterbox.apply(mask, geometry, method: config.maskResampling), geometry: geometry)
    }

    /// Inference input: `image` resized and normalised, plus the geometry that maps the network's output
    /// back (`Letterbox.invert(prediction, geometry)`).
    public func prepare(_ image: GrayImage) -> (input: GrayImage, geometry: LetterboxGeometry) {
        precondition(config.crop == nil, "a lesion-crop model needs the lesion: prepare(_:lesion:)")
        let geometry = config.geometry(sourceWidth: image.width, sourceHeight: image.height)
        let resized = Letterbox.apply(image, geometry, method: config.imageResampling)
        return (config.normalization.apply(to: resized), geometry)
    }
}

extension Preprocessor {
    /// Inference input of a lesion-crop model: the window around `lesion` (the whole frame when it is empty),
    /// resized and normalised. Without a crop setting, the whole image as `prepare(_:)` gives it.
    public func prepare(_ image: GrayImage, lesion: Mask) -> GrayImage {
        guard let crop = config.crop else { return prepare(image).input }
        return Preprocessor(config.withoutCrop).prepare(crop.box(around: lesion).apply(image)).input
    }
}

/// How the lesion window is cut (see `CropBox`).
public struct LesionCropConfig: Codable, Sendable, Equatable, DefaultDecodable {
    /// Context kept on each side, as a fraction of the lesion's longer side (radiologists read the margin and
    /// the tissue behind the lesion, so it must be in the window).
    public var margin = 0.3
    /// Smallest window, as a fraction of the image's shorter side (a tiny lesion is not blown up into noise).
    public var minimumFraction = 0.2
    public init() {}

    enum CodingKeys: String, CodingKey { case margin, minimumFraction }

    public func box(around mask: Mask) -> CropBox { CropBox(around: mask, margin: margin, minimumFraction: minimumFraction) }
}

extension PreprocessConfig {
    var withoutCrop: PreprocessConfig { var c = self; c.crop = nil; return c }

    /// Sizes no network input can have, naming the key and the allowed range (empty when fine).
    public var problems: [String] {
        var out: [String] = []
        for (key, value) in [("width", width), ("height", height)] where !(8...4096).contains(value) {
            out.append("preprocess.\(key) is \(value); allowed: 8-4096")
        }
        if let crop {
            if !(0...2).contains(crop.margin) { out.append("preprocess.crop.margin is \(crop.margin); allowed: 0-2") }
            if !(0...1).contains(crop.minimumFraction) { out.append("preprocess.crop.minimumFraction is \(crop.minimumFraction); allowed: 0-1") }
        }
        return out
    }
}
