import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoImaging
import SonoModels

/// The result of fitting one image: its code, the class codes it was fitted with and, for a conditioned
/// network, the class probabilities from the latent search.
public struct ImplicitPrediction: Sendable {
    /// [latentSize]
    public var latent: [Float]
    /// Index into the BI-RADS / pathology tables used for the kept fit (nil: the network has none).
    public var birads: Int?
    public var pathology: Int?
    /// softmax(−loss/τ) over each table's classes (each class's loss = its best fit over the other table).
    public var biradsProbabilities: [Float]?
    public var pathologyProbabilities: [Float]?
    /// The code head's probabilities over `codeHeadClasses`, read from the fitted code (nil without a head).
    public var codeProbabilities: [Float]?
    /// Reconstruction loss of the kept fit (visible pixels).
    public var loss: Double
    /// Loss of every class-code combination tried, in `ImplicitModel.combinations` order.
    public var combinationLosses: [Double]

    public init(latent: [Float], birads: Int? = nil, pathology: Int? = nil, loss: Double = 0, combinationLosses: [Double] = []) {
        (self.latent, self.birads, self.pathology, self.loss, self.combinationLosses) = (latent, birads, pathology, loss, combinationLosses)
    }

    var classes: ClassIndices { ClassIndices(birads: birads.map { [$0] }, pathology: pathology.map { [$0] }) }
}

extension ImplicitModel {
    /// Every (BI-RADS, pathology) index pair the network can be conditioned on ((nil, nil) when unconditioned).
    public var combinations: [(birads: Int?, pathology: Int?)] {
        let b: [Int?] = network.birads.map { Array(0..<$0.count) } ?? [nil]
        let p: [Int?] = network.pathology.map { Array(0..<$0.count) } ?? [nil]
        return b.flatMap { bi in p.map { (bi, $0) } }
    }

    func fitter(pointsPerStep: Int? = nil, restarts: Int? = nil, learningRate: Float? = nil) -> LatentFitter {
        var settings = info.inference
        if let learningRate { settings.learningRate = learningRate }
        if let pointsPerStep { settings.pointsPerStep = pointsPerStep }
        if let restarts { settings.restarts = restarts }
        return LatentFitter(network: network, loss: info.loss, settings: settings, latentStd: info.latentStd)
    }

    /// Fits each image (intensities [H·W] at the training resolution, normalised) by latent optimisation for
    /// `steps` (default K). A conditioned network is fitted once per class-code combination (classification by
    /// latent search) unless `known` fixes the classes; the lowest reconstruction loss wins. Images are
    /// batched `inference.batchSize` at a time, all their combinations in one stack.
    public func infer(_ intensities: [[Float]], visible: [[Bool]]? = nil, known: ClassIndices? = nil, steps: Int? = nil,
                      pointsPerStep: Int? = nil, restarts: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0) -> [ImplicitPrediction] {
        let (w, h) = (info.preprocess.width, info.preprocess.height)
        let fitter = self.fitter(pointsPerStep: pointsPerStep, restarts: restarts, learningRate: learningRate)
        let combos: [(birads: Int?, pathology: Int?)] = known == nil ? combinations : [(nil, nil)]
        let tau = Double(info.inference.temperature)
        var rng = RandomGenerator(seed: seed)
        var out: [ImplicitPrediction] = []
        let batch = max(1, info.inference.batchSize / combos.count)   // batchSize counts fits (images × combinations)
        var start = 0
        while start < intensities.count {
            let images = Array(start..<min(start + batch, intensities.count))
            // entries: image-major, one per combination
            let entries = images.flatMap { i in combos.indices.map { (i, $0) } }
            var classes: ClassIndices
            if let known {
                classes = known.expanded(images)
            } else {
                classes = ClassIndices(birads: network.birads == nil ? nil : entries.map { combos[$0.1].birads! },
                                       pathology: network.pathology == nil ? nil : entries.map { combos[$0.1].pathology! })
            }
            let request = LatentFitRequest(width: w, height: h, intensities: entries.map { intensities[$0.0] },
                                           visible: visible.map { v in entries.map { v[$0.0] } }, classes: classes)
            let fit = fitter.fit(request, steps: steps ?? info.inference.steps, rng: &rng)
            let headProbabilities = fitter.codeProbabilities(fit.latents)
            for (k, image) in images.enumerated() {
                let range = (k * combos.count)..<((k + 1) * combos.count)
                let losses = Array(fit.losses[range])
                let best = range.min { fit.losses[$0] < fit.losses[$1] }!
                var p = ImplicitPrediction(latent: fit.latents[best], birads: classes.birads?[best], pathology: classes.pathology?[best],
                                           loss: fit.losses[best], combinationLosses: losses)
                p.codeProbabilities = headProbabilities?[best]
                if known == nil {
                    if let t = network.birads { p.biradsProbabilities = Self.softmin((0..<t.count).map { c in zip(combos, losses).filter { $0.0.birads == c }.map(\.1).min()! }, tau) }
                    if let t = network.pathology { p.pathologyProbabilities = Self.softmin((0..<t.count).map { c in zip(combos, losses).filter { $0.0.pathology == c }.map(\.1).min()! }, tau) }
                }
                _ = image
                out.append(p)
            }
            start += images.count
        }
        return out
    }

    /// softmax(−loss / τ)
    static func softmin(_ losses: [Double], _ tau: Double) -> [Float] {
        let lo = losses.min() ?? 0
        let e = losses.map { Foundation.exp(-($0 - lo) / tau) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    /// The fitted image at `coords` ([P, 2] flattened, frame units; beyond ±1 reads outside the plane):
    /// (intensity [P] in [0, 1], lesion probability [P]).
    public func sample(_ prediction: ImplicitPrediction, coords: [Float]) -> (intensity: [Float], mask: [Float]) {
        let r = fitter().readout(latents: [prediction.latent], classes: prediction.classes, coords: coords)
        return (r.intensity[0], r.mask[0])
    }

    /// The fitted image on a W×H grid of the training frame (any resolution): (intensity, probability).
    public func sample(_ prediction: ImplicitPrediction, width: Int, height: Int, extent: Float = 1) -> (intensity: GrayImage, mask: GrayImage) {
        let s = sample(prediction, coords: CoordinateGrid.grid(width: width, height: height, extent: extent))
        return (GrayImage(width: width, height: height, pixels: s.intensity), GrayImage(width: width, height: height, pixels: s.mask))
    }

    /// Frame coordinates [W·H, 2] of the pixel centres of a W×H image covering the source image that `geometry`
    /// placed in the frame: the network read there gives the image at any resolution, without resampling.
    public static func frameCoordinates(_ g: LetterboxGeometry, width: Int, height: Int) -> [Float] {
        let sx = Double(g.contentWidth) / Double(width), sy = Double(g.contentHeight) / Double(height)
        var coords = [Float](repeating: 0, count: width * height * 2)
        for y in 0..<height {
            for x in 0..<width {
                coords[2 * (y * width + x)] = Float((Double(g.offsetX) + (Double(x) + 0.5) * sx) / Double(g.targetWidth) * 2 - 1)
                coords[2 * (y * width + x) + 1] = Float((Double(g.offsetY) + (Double(y) + 0.5) * sy) / Double(g.targetHeight) * 2 - 1)
            }
        }
        return coords
    }

    /// `image` letterboxed to the training frame and normalised, with its geometry.
    public func prepare(_ image: GrayImage) -> (input: GrayImage, geometry: LetterboxGeometry) {
        Preprocessor(info.preprocess).prepare(image)
    }

    /// Probability at the image's own size: sampled on a `resolution` grid of the frame (default: the training
    /// size), then mapped back through the letterbox geometry (scaled to that grid).
    public func probability(_ prediction: ImplicitPrediction, source: GrayImage, resolution: (Int, Int)? = nil) throws -> GrayImage {
        try read(prediction, source: source, resolution: resolution).probability
    }

    /// One readout of the frame on a `resolution` grid (default: the training size): the probability mapped back
    /// to the image's own size, and the reconstruction on the grid.
    public func read(_ prediction: ImplicitPrediction, source: GrayImage, resolution: (Int, Int)? = nil) throws
        -> (probability: GrayImage, reconstruction: GrayImage) {
        let (w, h) = resolution ?? (info.preprocess.width, info.preprocess.height)
        let field = sample(prediction, width: w, height: h)
        let geometry = info.preprocess.geometryAt(width: w, height: h, sourceWidth: source.width, sourceHeight: source.height)
        return (try Letterbox.invert(field.mask, geometry), field.intensity)
    }
}

extension PreprocessConfig {
    /// This config's geometry for an image, at another output size (same letterbox/stretch rule).
    func geometryAt(width: Int, height: Int, sourceWidth: Int, sourceHeight: Int) -> LetterboxGeometry {
        var c = self
        (c.width, c.height) = (width, height)
        return c.geometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight)
    }
}
