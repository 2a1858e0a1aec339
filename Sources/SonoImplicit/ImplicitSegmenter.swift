import Foundation
import SonoPipeline
import SonoMetrics
import SonoImaging
import SonoModels

/// How an implicit network fits each image's latent; nil fields keep the model's own settings (K steps chosen on
/// validation, its restarts, points and learning rate).
public struct LatentFitOptions: Sendable {
    public var steps: Int?
    public var restarts: Int?
    /// Random pixels per image and latent step (0: all).
    public var pointsPerStep: Int?
    /// Adam learning rate of the latent.
    public var learningRate: Float?
    /// Seed of latent initialisation and point sampling.
    public var seed: UInt64 = 0
    /// Grid on which the frame is sampled before mapping back to the image (nil: the training size).
    public var resolution: (Int, Int)?
    /// When > 1, the field is also read over [-extent, extent]² (the image is [-1, 1]²): STEM_extended_reconstruction.png
    /// and STEM_extended_prob.png, what the network continues beyond the image.
    public var extent: Float?
    public init() {}
}

/// An implicit network (NISF, Byra) as a `Segmenter`: each batch of images is letterboxed to the training
/// frame, its latents fitted (or predicted by the encoder), and the field read back at each image's own size.
/// Besides the probability it gives the reconstruction, the code head's pathology (`classes`) and, for a
/// conditioned network, BI-RADS and pathology by latent search.
public final class ImplicitSegmenter: Segmenter {
    public let model: ImplicitModel
    public var fit: LatentFitOptions

    public init(_ model: ImplicitModel, fit: LatentFitOptions = LatentFitOptions()) { (self.model, self.fit) = (model, fit) }

    public var url: URL { model.url ?? URL(fileURLWithPath: "(in memory)") }
    public var threshold: Float { model.info.inference.threshold }
    public var name: String { model.info.name }
    public var segments: Bool { true }
    public var classNames: [String]? { model.info.network.codeHeadClasses.isEmpty ? nil : model.info.network.codeHeadClasses }
    /// `inference.batchSize` counts fits: images × class-code combinations.
    public var preferredBatch: Int { max(1, model.info.inference.batchSize / model.combinations.count) }
    public var supportsFlipTTA: Bool { false }

    public func predict(_ images: [GrayImage], flipTTA: Bool) throws -> [ImagePrediction] {
        if flipTTA { throw PipelineError.invalidConfig("\(url.path): test-time flips apply to convolutional models, not to an implicit network") }
        let prepared = images.map { model.prepare($0) }
        let fits = model.infer(prepared.map(\.input.pixels), steps: fit.steps, pointsPerStep: fit.pointsPerStep,
                               restarts: fit.restarts, learningRate: fit.learningRate, seed: fit.seed)
        let network = model.info.network
        return try zip(zip(images, prepared), fits).map { pair, f in
            let (image, geometry) = (pair.0, pair.1.geometry)
            // one readout of the frame gives the mask and the reconstruction
            let (probability, reconstruction) = try model.read(f, source: image, resolution: fit.resolution)
            var p = ImagePrediction(lesion: probability, classes: f.codeProbabilities)
            p.reconstructionLoss = f.loss
            p.images = [("reconstruction", reconstruction)]
            if let extent = fit.extent {
                // same pixel pitch as the reconstruction, over a wider square
                let (w, h) = (Int((Float(reconstruction.width) * extent).rounded()), Int((Float(reconstruction.height) * extent).rounded()))
                let field = model.sample(f, width: w, height: h, extent: extent)
                p.images += [("extended_reconstruction", field.intensity), ("extended_prob", field.mask)]
            }
            if let b = f.biradsProbabilities { p.biradsBySearch = ClassAnswer(names: network.biradsClasses, probabilities: b) }
            if let q = f.pathologyProbabilities { p.pathologyBySearch = ClassAnswer(names: network.pathologyClasses, probabilities: q) }
            // the field read at every output pixel's centre: no resampling
            p.readout = { [model] w, h in
                GrayImage(width: w, height: h, pixels: model.sample(f, coords: ImplicitModel.frameCoordinates(geometry, width: w, height: h)).mask)
            }
            return p
        }
    }
}
