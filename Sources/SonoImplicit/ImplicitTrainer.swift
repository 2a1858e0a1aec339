import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoModels
import SonoNN

/// What `trainImplicit` returns and writes to `summary.json`.
public struct ImplicitTrainSummary: Codable, Sendable {
    public var steps: Int
    public var seconds: Double
    public var trainImages: Int
    public var validationImages: Int
    public var testImages: Int
    /// Latent steps K chosen on the validation images, and their mean Dice there.
    public var inferenceSteps: Int
    public var validationDice: Double
    public var stoppedByTime: Bool
}

/// An implicit-network training run over in-memory images: the network, every training image's latent (an
/// auto-decoder) or the encoder that predicts it (amortised), and the optimizers. `trainStep()` runs one
/// batched step; `finish` fits the validation images to choose the latent steps K.
public final class AutoDecoderTrainer {
    public let config: ImplicitTrainConfig
    public let network: ImplicitNetwork
    /// The training images' codes; nil when the encoder predicts them.
    public let latents: EmbeddingTable?
    public let bank: ImageBank
    let optimizer: AutoDecoderOptimizer
    let state: AutoDecoderState
    public internal(set) var step = 0
    private var permutation: (epoch: Int, order: [Int]) = (-1, [])

    public init(config: ImplicitTrainConfig, bank: ImageBank) {
        precondition(bank.count > 0, "AutoDecoderTrainer: no training images")
        (self.config, self.bank) = (config, bank)
        var rng = RandomGenerator(seed: config.seed)
        network = ImplicitNetwork(config.model, rng: &rng)
        latents = config.model.encoder == nil
            ? EmbeddingTable(rows: bank.count, dims: config.model.latentSize, std: config.latentStd, rng: &rng) : nil
        optimizer = AutoDecoderOptimizer(table: latents)
        state = AutoDecoderState(network: network, latents: latents)
    }

    /// Weight learning rate at `step`, from the recipe's schedule (`ImplicitTrainConfig.schedule`).
    public func learningRate(at step: Int) -> Float {
        // The schedule's last step is `steps` itself, so the rate reaches its floor when training ends.
        config.schedule.rate(step: min(step, config.steps), totalSteps: config.steps + 1)
    }

    /// The images of `step`: consecutive slices of a per-epoch permutation seeded by (seed, epoch).
    func images(at step: Int) -> [Int] {
        let n = bank.count, b = min(config.batchImages, n), perEpoch = max(1, n / b)
        let epoch = step / perEpoch, k = step % perEpoch
        if permutation.epoch != epoch {
            var rng = RandomGenerator(seed: config.seed &+ 0x5EED &+ UInt64(epoch) &* 0x9E37_79B9)
            permutation = (epoch, Array(0..<n).shuffled(using: &rng))
        }
        return Array(permutation.order[(k * b)..<((k + 1) * b)])
    }

    /// One optimisation step of weights (Adam) and the batch's latents (LazyAdam); returns its loss terms.
    /// `learningRate`: the weights' rate for this step (default: the recipe's schedule at `step`; the run loop
    /// passes its own, from the same schedule).
    @discardableResult
    public func trainStep(learningRate rate: Float? = nil) -> ImplicitLossTerms {
        let images = images(at: step)
        var rng = RandomGenerator(seed: config.seed &+ 0xBA7C4 &+ UInt64(step) &* 0x2545_F491_4F6C_DD1D)
        let flips = config.flip ? images.map { _ in rng.next() & 1 == 1 } : nil
        let batch = PointBatch.sample(bank, images: images, points: config.pointsPerImage, noise: config.coordinateNoise, flips: flips, rng: &rng)
        let parameters = network.namedParameters()
        optimizer.zeroGrad(parameters)
        latents?.zeroGrad()
        let codes = latents.map { $0(images) } ?? network.encode(bank.batch(images, flips: flips))
        let terms = config.loss.trainingLoss(network: network, batch: batch, latents: codes,
                                             classes: bank.classes(images, network: config.model), headLabels: images.map { bank.headIndex[$0] })
        terms.total.backward()
        optimizer.update(parameters, learningRate: rate ?? learningRate(at: step))
        if latents != nil { optimizer.updateLatents(learningRate: config.latentLearningRate) }
        step += 1
        return terms
    }


    /// The model with this run's weights and settings; K is chosen on `validation` (see `ImplicitModel.calibrate`).
    public func finish(validation: ImageBank, log: (String) -> Void = { _ in }) -> ImplicitModel {
        var info = ImplicitModelInfo()
        (info.name, info.network, info.loss, info.inference) = (config.name, config.model, config.loss, config.inference)
        (info.preprocess, info.latentStd, info.trainedSteps, info.trainImages) = (config.preprocess, config.latentStd, step, bank.count)
        network.setTraining(false)
        let model = ImplicitModel(network: network, info: info)
        model.calibrate(on: validation, seed: config.seed &+ 0x7A11D, log: log)
        return model
    }
}

extension ImplicitModel {
    /// Chooses K: fits the latents of (up to `inference.validationImages` of) `validation` for
    /// `inference.maxSteps` steps, measuring mean Dice every `evaluateEvery` steps; K = the earliest step whose
    /// mean Dice is within `diceTolerance` of the best, stored with the curve (and that Dice). Class codes are
    /// the images' own labels.
    public func calibrate(on validation: ImageBank, seed: UInt64 = 0, log: (String) -> Void = { _ in }) {
        guard validation.count > 0 else { return }
        let limit = info.inference.validationImages > 0 ? min(info.inference.validationImages, validation.count) : validation.count
        var settings = info.inference
        settings.restarts = 1
        let fitter = LatentFitter(network: network, loss: info.loss, settings: settings, latentStd: info.latentStd)
        var rng = RandomGenerator(seed: seed)
        var sums: [Int: Double] = [:], steps: [Int] = []
        var start = 0
        while start < limit {
            let images = Array(start..<min(start + settings.batchSize, limit))
            let request = LatentFitRequest(width: validation.width, height: validation.height,
                                           intensities: images.map { validation.intensities[$0] },
                                           classes: validation.classes(images, network: info.network))
            let fit = fitter.fit(request, steps: settings.maxSteps, truth: images.map { validation.masks[$0] }, rng: &rng)
            for point in fit.curve {
                if sums[point.step] == nil { steps.append(point.step) }
                sums[point.step, default: 0] += point.dice * Double(images.count)
            }
            start += images.count
            log("validation fit: \(start)/\(limit) images")
        }
        let curve = steps.map { DicePoint(step: $0, dice: sums[$0]! / Double(limit)) }
        let top = curve.map(\.dice).max()!
        let best = curve.filter { $0.dice >= top - info.inference.diceTolerance }.min { $0.step < $1.step }!
        info.curve = curve
        // with an encoder, its code alone (K = 0) may already be the best
        info.inference.steps = info.inference.initialization == .encoder ? best.step : max(best.step, 1)
        info.validationDice = best.dice
    }
}

/// Trains an implicit network as the recipe says, writing to `folder`: config.json, split-N.json,
/// log.jsonl, last.safetensors (checkpoint with the latent table, every `checkpointEvery` steps),
/// model.safetensors (the shipped model, K chosen on validation) and summary.json. `resume` continues from
/// last.safetensors; `stopAfter` ends after that many steps, as a kill would.
public func trainImplicit(_ config: ImplicitTrainConfig, folder: URL, resume: Bool = false, quiet: Bool = false, stopAfter: Int? = nil,
                          log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) throws -> ImplicitTrainSummary {
    try config.validate()
    if ProcessGroup.current != nil { throw PipelineError.invalidConfig(ImplicitTraining.notDataParallel) }
    let run = RunFolder(folder)
    let lock = try run.begin(config, resume: resume, load: ImplicitTrainConfig.load, sameRun: { $0.trainsTheSame(as: config) })
    defer { withExtendedLifetime(lock) {} }

    var splitConfig = TrainingSettings(epochs: 1)
    (splitConfig.data, splitConfig.split, splitConfig.seed) = (config.data, config.split, config.seed)
    let data = try TrainingData.prepare(splitConfig, runFolder: folder, log: log)
    let cache = folder.appendingPathComponent("cache")
    let (train, trainNotes) = try ImageBank.load(data.train, preprocess: config.preprocess, network: config.model, cacheFolder: cache, onError: config.onError)
    let (validation, validationNotes) = try ImageBank.load(data.validation, preprocess: config.preprocess, network: config.model, cacheFolder: cache, onError: config.onError)
    if !(trainNotes + validationNotes).isEmpty {
        try JSONFiles.write(trainNotes + validationNotes, to: run.skipped)
        log("\((trainNotes + validationNotes).count) images left out (listed in \(run.skipped.path))")
    }
    guard train.count > 0 else { throw PipelineError.emptyDataset("no training images left in \(config.data.map(\.path).joined(separator: ", "))") }
    log("train \(train.count), validation \(validation.count), test \(data.test.count) images at \(config.preprocess.width)x\(config.preprocess.height)")

    let trainer = AutoDecoderTrainer(config: config, bank: train)
    // The run loop's unit is `logEvery` steps: one log line, and a checkpoint every `checkpointEvery` steps.
    let rounds = (config.steps + config.logEvery - 1) / config.logEvery
    let plan = RunPlan(epochs: rounds, schedule: config.schedule, totalSteps: config.steps + 1)
    let outcome = try runEpochs(ImplicitTraining(trainer), plan: plan, run: run, resume: resume,
                                stopAfter: stopAfter.map { ($0 + config.logEvery - 1) / config.logEvery },
                                hasTestImages: false, quiet: quiet, log: log)
    let (seconds, stoppedByTime) = (outcome.state.seconds, outcome.stopReason != nil)
    if trainer.step < config.steps && !stoppedByTime {
        return ImplicitTrainSummary(steps: trainer.step, seconds: seconds, trainImages: train.count, validationImages: validation.count,
                                    testImages: data.test.count, inferenceSteps: 0, validationDice: .nan, stoppedByTime: false)
    }
    log("choosing latent steps K on \(min(validation.count, config.inference.validationImages > 0 ? config.inference.validationImages : validation.count)) validation images (up to \(config.inference.maxSteps) steps)")
    let model = trainer.finish(validation: validation, log: log)
    try model.save(to: run.best)
    log(String(format: "K = %d latent steps, validation Dice %.4f; model in %@", model.info.inference.steps, model.info.validationDice ?? .nan, run.best.path))
    let summary = ImplicitTrainSummary(steps: trainer.step, seconds: seconds, trainImages: train.count, validationImages: validation.count,
                                       testImages: data.test.count, inferenceSteps: model.info.inference.steps,
                                       validationDice: model.info.validationDice ?? .nan, stoppedByTime: stoppedByTime)
    try JSONFiles.write(summary, to: run.summary)
    try JSONFiles.write(model.info.curve, to: folder.appendingPathComponent("dice-curve.json"))
    return summary
}

/// Why `train --distributed` refuses an implicit network.
public enum ImplicitDistributed {
    public static let refusal = "--distributed: implicit networks (NISF, Byra) do not train data-parallel: they are auto-decoders "
        + "whose per-image latent codes are parameters updated sparsely (LazyAdam), and a step samples points of a few images, "
        + "so splitting a batch would need a sparse exchange of latent rows that SonoSeg does not have; train them in one process"
}

/// The auto-decoder's side of the run loop: `logEvery` steps per round, no per-round validation (the
/// latent-step calibration after training is its validation), a checkpoint every `checkpointEvery` steps,
/// and a stop when the wall-time budget is spent.
final class ImplicitTraining: Trainable {
    static let notDataParallel = ImplicitDistributed.refusal
    func synchronise(_ group: ProcessGroup) { preconditionFailure(Self.notDataParallel) }

    /// Nothing is validated per round.
    struct NotValidated: Codable, Sendable {}

    let trainer: AutoDecoderTrainer
    var config: ImplicitTrainConfig { trainer.config }

    init(_ trainer: AutoDecoderTrainer) { self.trainer = trainer }

    var stepsPerEpoch: Int { config.logEvery }
    var skipped: [SkippedSample] { [] }   // the image banks are loaded, and their notes written, up front

    func trainEpoch(_ epoch: Int, step: inout Int, rate: (Int) -> Float, progress: ProgressBar?) throws -> EpochLosses {
        let end = min(config.steps, (epoch + 1) * config.logEvery)
        var sums = [Double](repeating: 0, count: 6), count = 0
        while trainer.step < end {
            let terms = trainer.trainStep(learningRate: rate(trainer.step))
            try requireFinite(terms.total.item, step: trainer.step - 1, epoch: epoch)
            for (i, v) in [terms.total.item, terms.reconstruction, terms.segmentation, terms.latent, terms.weight, terms.classification].enumerated() {
                sums[i] += Double(v)
            }
            count += 1
            progress?.update(count, String(format: "loss %.4f rec %.4f seg %.4f", sums[0] / Double(count), sums[1] / Double(count), sums[2] / Double(count)))
        }
        step = trainer.step
        let n = Double(max(count, 1))
        return EpochLosses(loss: sums[0] / n, terms: ["reconstruction": sums[1] / n, "segmentation": sums[2] / n,
                                                      "latent": sums[3] / n, "weight": sums[4] / n, "classification": sums[5] / n])
    }

    func validate() throws -> (score: Double?, figures: NotValidated) { (nil, NotValidated()) }

    /// Never called (no validation score); the model is written after the calibration that follows training.
    func saveBest(to url: URL, score: Double, epoch: Int) throws {}

    func saveCheckpoint(_ state: TrainState, to url: URL) throws {
        try Checkpoint.save(model: trainer.state, optimizer: trainer.optimizer, extra: state, to: url)
    }

    func loadCheckpoint(from url: URL) throws -> TrainState {
        let state = try Checkpoint.load(model: trainer.state, optimizer: trainer.optimizer, extra: TrainState.self, from: url)
        trainer.step = state.step
        return state
    }

    func describe(_ r: EpochRecord<NotValidated>, epochs: Int) -> String {
        let t = r.trainTerms ?? [:]
        let head = trainer.network.codeHead == nil ? "" : String(format: "  cls %.4f", t["classification"] ?? .nan)
        return String(format: "step %d/%d  loss %.4f  rec %.4f  seg %.4f%@  lr %.2e  %.0fs", r.step, config.steps, r.trainLoss,
                      t["reconstruction"] ?? .nan, t["segmentation"] ?? .nan, head, r.learningRate, r.seconds)
    }

    func evaluateTest(best: URL, folder: URL) throws -> (figures: Double, headline: String) {
        throw PipelineError.invalidConfig("an implicit model is scored with `sonoseg implicit evaluate`")
    }

    func checkpoints(after epoch: Int) -> Bool { trainer.step % config.checkpointEvery == 0 }

    func progressLabel(_ epoch: Int, of epochs: Int) -> String {
        "steps \(epoch * config.logEvery + 1)-\(min(config.steps, (epoch + 1) * config.logEvery))/\(config.steps)"
    }

    func stopReason(_ state: TrainState) -> String? {
        guard let minutes = config.maxMinutes, state.seconds >= minutes * 60 else { return nil }
        return "time budget of \(minutes) min reached at step \(trainer.step)"
    }
}
