import SonoBase
import Foundation
import SonoPipeline
import SonoMetrics
import SonoNN
import SonoData
import SonoImaging
import SonoModels

/// The reconstruction term: NISF's BCE on the intensity logit, or Byra's mean squared error on σ(logit).
public enum ReconstructionLoss: String, Codable, Sendable, CaseIterable { case bce, mse }

/// How a new image's latent starts before it is optimised.
/// How a new image's latent starts before it is optimised: zeros or N(0, σ²) (the papers), or the network's
/// encoder (amortised inference; the optimisation then refines it).
public enum LatentInitialization: String, Codable, Sendable, CaseIterable { case zeros, normal, encoder }

/// Inference by latent optimisation: the weights are frozen and only the image's code moves, on the
/// reconstruction loss (+ latent penalty); the mask is read from the segmentation head.
public struct ImplicitInferenceConfig: Codable, Hashable, Sendable, DefaultDecodable {
    /// Latent steps K. Training overwrites it with the step of best mean validation Dice.
    public var steps = 150
    /// Longest validation fit when choosing K.
    public var maxSteps = 300
    /// Dice is evaluated every this many steps of the validation fit (the curve stored in the model).
    public var evaluateEvery = 10
    /// ... on every this-many-th pixel in x and y (2: a quarter of the grid).
    public var evaluateStride = 2
    /// Images of the validation split used to choose K (0: all).
    public var validationImages = 32
    /// K is the fewest steps whose mean validation Dice is within this of the best (0: the best itself): steps
    /// cost time, and differences below the validation set's noise do not pay for them.
    public var diceTolerance = 0.0
    /// Adam rate of the new latent. Match it to the scale of the training latents (trained at
    /// `latentLearningRate`, 1e-3, from N(0, 0.01²)): on BUS-BRA after 843 steps, 1e-2 overshot (validation Dice
    /// 0.36 at step 0 fell to ~0.2), 3e-3 reached 0.48 and 1e-3 0.52 after 150 steps.
    public var learningRate: Float = 1e-3
    /// Random pixels per image and step (0: the whole grid each step).
    public var pointsPerStep = 512
    /// Independent fits per image; the one with the lowest final reconstruction loss is kept.
    public var restarts = 1
    public var initialization = LatentInitialization.zeros
    /// Fits run together in one stacked batch (images × class-code combinations; restarts multiply it).
    public var batchSize = 16
    /// Softmax temperature of classification by latent search: p = softmax(−loss / τ).
    public var temperature: Float = 0.01
    public var threshold: Float = 0.5

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, maxSteps, evaluateEvery, evaluateStride, validationImages, diceTolerance, learningRate, pointsPerStep, restarts, initialization
        case batchSize, temperature, threshold
    }

    var problems: [String] {
        var out: [String] = []
        if steps < 0 || maxSteps < 0 { out.append("inference.steps and maxSteps must be ≥ 0") }
        if evaluateEvery < 1 || evaluateStride < 1 { out.append("inference.evaluateEvery and evaluateStride must be ≥ 1") }
        if restarts < 1 { out.append("inference.restarts must be ≥ 1") }
        if batchSize < 1 { out.append("inference.batchSize must be ≥ 1") }
        if pointsPerStep < 0 { out.append("inference.pointsPerStep must be ≥ 0") }
        if !(learningRate > 0) { out.append("inference.learningRate must be > 0") }
        if !(temperature > 0) { out.append("inference.temperature must be > 0") }
        if !(0...0.5).contains(diceTolerance) { out.append("inference.diceTolerance must be 0-0.5, got \(diceTolerance)") }
        return out
    }
}

/// Loss weights shared by training and inference.
public struct ImplicitLossConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public var reconstruction = ReconstructionLoss.bce
    public var reconstructionWeight: Float = 1
    /// BCE + Dice on the mask logit, each times this.
    public var segmentationWeight: Float = 1
    public var diceWeight: Float = 1
    /// λ_latent · mean(z²) (NISF: 1e-4).
    public var latentPenalty: Float = 1e-4
    /// λ_w · Σ w² over trunk weight matrices (NISF: 1e-4).
    public var weightPenalty: Float = 1e-4
    /// Cross-entropy of the code head (`model.codeHeadClasses`), times this.
    public var classificationWeight: Float = 0.1
    public init() {}

    enum CodingKeys: String, CodingKey {
        case reconstruction, reconstructionWeight, segmentationWeight, diceWeight, latentPenalty, weightPenalty, classificationWeight
    }
}

/// A recipe for `sonoseg implicit train`: data, network, auto-decoder training and inference settings.
public struct ImplicitTrainConfig: Codable, Equatable, Sendable {
    public var name = "nisf"
    public var data: [DataSource] = []
    public var model = ImplicitNetworkConfig()
    public var loss = ImplicitLossConfig()
    public var inference = ImplicitInferenceConfig()
    /// Training resolution; intensities are min-max scaled to [0, 1] per image.
    public var preprocess = PreprocessConfig(width: 128, height: 128, resize: .letterbox,
                                             normalization: IntensityNormalization(method: .minMax))
    public var split = SplitConfiguration()
    public var steps = 5000
    /// Images per step.
    public var batchImages = 32
    /// Random pixels per image and step (0: every pixel).
    public var pointsPerImage = 512
    public var learningRate: Float = 5e-4
    public var latentLearningRate: Float = 1e-3
    /// Learning-rate schedule of the weights: constant or cosine (to 10% of the peak).
    public var cosineSchedule = false
    /// Standard deviation of the training latents' init N(0, σ²) (NISF: 1e-4; DeepSDF: 1/√dims). 1e-2 keeps
    /// codes small next to the coordinates while breaking symmetry between images.
    public var latentStd: Float = 1e-2
    /// Gaussian jitter on training coordinates, in frame units (NISF: 1e-4 on [0, 1)).
    public var coordinateNoise: Float = 2e-4
    /// Mirror each training image left-right with probability ½ (with an encoder: the auto-decoder's codes are
    /// per image, so its images are never flipped).
    public var flip = false
    public var logEvery = 50
    public var checkpointEvery = 500
    /// Stop training after this much wall time (nil: run all steps); K is still chosen afterwards.
    public var maxMinutes: Double?
    public var seed: UInt64 = 0
    public var onError = ErrorPolicy.fail

    public init() {}

    /// The weights' schedule, the same type every trainer uses: constant, or cosine from the peak down to 10%.
    public var schedule: LearningRateSchedule {
        cosineSchedule ? .cosine(peak: learningRate, minimum: learningRate / 10) : .constant(learningRate)
    }

    enum CodingKeys: String, CodingKey {
        case name, data, model, loss, inference, preprocess, split, steps, batchImages, pointsPerImage, learningRate
        case latentLearningRate, cosineSchedule, latentStd, coordinateNoise, flip, logEvery, checkpointEvery, maxMinutes, seed, onError
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.name, into: &name); try c.read(.data, into: &data); try c.read(.model, into: &model)
        try c.read(.loss, into: &loss); try c.read(.inference, into: &inference); try c.read(.split, into: &split)
        if c.contains(.preprocess) {
            // keys a recipe's preprocess block leaves out keep this recipe's defaults (128x128, min-max)
            var p = try c.decode(PreprocessConfig.self, forKey: .preprocess)
            let raw = try c.nestedContainer(keyedBy: PreprocessKeys.self, forKey: .preprocess)
            if !raw.contains(.normalization) { p.normalization = preprocess.normalization }
            if !raw.contains(.width) { p.width = preprocess.width }
            if !raw.contains(.height) { p.height = preprocess.height }
            preprocess = p
        }
        try c.read(.steps, into: &steps); try c.read(.batchImages, into: &batchImages)
        try c.read(.pointsPerImage, into: &pointsPerImage); try c.read(.learningRate, into: &learningRate)
        try c.read(.latentLearningRate, into: &latentLearningRate); try c.read(.cosineSchedule, into: &cosineSchedule)
        try c.read(.latentStd, into: &latentStd); try c.read(.coordinateNoise, into: &coordinateNoise); try c.read(.flip, into: &flip)
        try c.read(.logEvery, into: &logEvery); try c.read(.checkpointEvery, into: &checkpointEvery)
        try c.read(.maxMinutes, into: &maxMinutes); try c.readSeed(.seed, into: &seed); try c.read(.onError, into: &onError)
    }
    private enum PreprocessKeys: String, CodingKey { case normalization, width, height }

    /// Checks values a user can get wrong, with messages that name the setting.
    public func validate() throws {
        var p = model.problems + inference.problems
        if data.isEmpty { p.append("data: name at least one dataset folder") }
        if steps < 1 { p.append("steps must be ≥ 1, got \(steps)") }
        if !(1...1024).contains(batchImages) { p.append("batchImages is \(batchImages); allowed: 1-1024") }
        if !(0...1_000_000).contains(pointsPerImage) { p.append("pointsPerImage is \(pointsPerImage); allowed: 0-1000000") }
        if preprocess.width < 1 || preprocess.height < 1 { p.append("preprocess size must be positive") }
        if logEvery < 1 || checkpointEvery < 1 { p.append("logEvery and checkpointEvery must be ≥ 1") }
        if inference.initialization == .encoder && model.encoder == nil { p.append("inference.initialization is encoder but model.encoder is not set") }
        if flip && model.encoder == nil { p.append("flip needs model.encoder (an auto-decoder's code belongs to one unflipped image)") }
        if steps >= 1 && inference.maxSteps < 1 && model.encoder == nil { p.append("inference.maxSteps must be ≥ 1 without an encoder") }
        if !p.isEmpty { throw PipelineError.invalidConfig(p.joined(separator: "; ")) }
    }

    /// Reads a JSON recipe; errors name the file.
    public static func load(_ url: URL) throws -> ImplicitTrainConfig {
        try RecipeFile.decode(ImplicitTrainConfig.self, from: url, what: "implicit-network recipe")
    }
}

extension ImplicitTrainConfig {
    /// Equal in everything but the wall-time budget, which says how long to run, not what is trained: a
    /// resumed run may be given more (or less) time.
    public func trainsTheSame(as other: ImplicitTrainConfig) -> Bool {
        var other = other
        other.maxMinutes = maxMinutes
        return self == other
    }
}
