import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData
import SonoNN
import SonoTensor

/// What `train` returns and writes to `summary.json`.
public struct TrainSummary: Codable, Sendable {
    public var epochsRun: Int
    public var bestEpoch: Int
    public var bestValidationDice: Double
    public var seconds: Double
    public var trainImages: Int
    public var validationImages: Int
    public var testImages: Int
    public var stoppedEarly: Bool
    /// Mean Dice of the best model on the test images with a lesion (all images when none has one).
    public var testDice: Double?
}


/// Trains a U-Net (optionally deeply supervised and adversarial) as the config says, writing everything to
/// `folder`. With `resume`, continues from `last.safetensors` when it exists.
/// `stopAfter` ends this invocation after that many epochs, as a kill would (tests of resume use it).
public func train(_ config: TrainConfig, folder: URL, resume: Bool = false, quiet: Bool = false, stopAfter: Int? = nil,
                  log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) throws -> TrainSummary {
    try config.validate()
    Engine.retainFreedMemory()
    let run = RunFolder(folder)
    let (lock, speaks) = try beginRun(run, log: log) {
        try run.begin(config, resume: resume, load: TrainConfig.load, sameRun: { $0 == config })
    }
    defer { withExtendedLifetime(lock) {} }
    func say(_ line: String) { if speaks { log(line) } }

    let data = try prepareData(log: say) { try TrainingData.prepare(config, runFolder: folder, log: say) }
    guard !data.train.isEmpty, !data.validation.isEmpty else {
        throw PipelineError.emptyDataset("no training or validation images (train \(data.train.count), validation \(data.validation.count))")
    }
    say("train \(data.train.count), validation \(data.validation.count), test \(data.test.count) images at \(config.preprocess.width)x\(config.preprocess.height)")

    let training = try UNetTraining(config, data: data, folder: folder)
    let resuming = resume && FileManager.default.fileExists(atPath: run.last.path)
    if !resuming, let initial = config.initialWeights {
        let loaded = try training.model.loadInitialWeights(URL(fileURLWithPath: initial))
        say("starting from \(loaded.path) (fine-tuning)")
    }
    let outcome = try runEpochs(training, plan: RunPlan(config.settings), run: run, resume: resume, stopAfter: stopAfter,
                                hasTestImages: !data.test.isEmpty, quiet: quiet, log: say)
    if let group = ProcessGroup.current, !group.isLeader { return summaryOfRank(outcome, data) }
    // A bad file is skipped again every epoch; list it once.
    var seen = Set<String>()
    let skipped = (training.skipped + training.validationLoader.skipped).filter { seen.insert($0.path).inserted }
    if !skipped.isEmpty { try JSONFiles.write(skipped, to: run.skipped) }
    let summary = TrainSummary(epochsRun: outcome.epochsRun, bestEpoch: outcome.state.bestEpoch + 1,
                               bestValidationDice: outcome.state.bestScore, seconds: outcome.state.seconds,
                               trainImages: data.train.count, validationImages: data.validation.count,
                               testImages: data.test.count, stoppedEarly: outcome.stoppedEarly, testDice: outcome.test)
    try JSONFiles.write(summary, to: run.summary)
    return summary
}

/// A non-leading rank's summary: what it trained, without the files rank 0 writes.
private func summaryOfRank(_ outcome: RunOutcome<Double>, _ data: TrainingData) -> TrainSummary {
    TrainSummary(epochsRun: outcome.epochsRun, bestEpoch: outcome.state.bestEpoch + 1, bestValidationDice: outcome.state.bestScore,
                 seconds: outcome.state.seconds, trainImages: data.train.count, validationImages: data.validation.count,
                 testImages: data.test.count, stoppedEarly: outcome.stoppedEarly, testDice: nil)
}

/// The U-Net's side of the run loop: batches from the training loader, Dice on the validation loader, the
/// segmenter and its discriminators in the checkpoint, the segmenter alone in `model.safetensors`.
final class UNetTraining: Trainable {
    let config: TrainConfig
    let model: SegmentationModel
    let optimizer: Optimizer
    let trainLoader: BatchLoader, validationLoader: BatchLoader
    let test: [Sample]
    let discriminatorSchedule: LearningRateSchedule
    /// The data-parallel job this rank trains in, if any.
    let group = ProcessGroup.current

    init(_ config: TrainConfig, data: TrainingData, folder: URL) throws {
        self.config = config
        var rng = RandomGenerator(seed: config.seed)
        model = SegmentationModel(config, rng: &rng)
        optimizer = config.optimizer.makeOptimizer()
        discriminatorSchedule = config.deepSupervision.discriminatorOptimizer.makeSchedule()
        let cache = folder.appendingPathComponent("cache")
        var loading = LoaderConfig(batchSize: config.batchSize, shuffle: true, dropLast: data.train.count > config.batchSize,
                                   onError: config.onError, seed: config.seed)
        trainLoader = try BatchLoader(samples: data.train, preprocess: config.preprocess,
                                      augmentation: config.augment ? config.augmentation : nil, config: loading, cacheFolder: cache)
        (loading.shuffle, loading.dropLast) = (false, false)
        validationLoader = try BatchLoader(samples: data.validation, preprocess: config.preprocess, augmentation: nil,
                                           config: loading, cacheFolder: cache)
        if let group {
            trainLoader.split = .withinBatches(part: group.rank, parts: group.size)
            validationLoader.split = .wholeBatches(part: group.rank, parts: group.size)
        }
        test = data.test
    }

    func synchronise(_ group: ProcessGroup) { group.synchronise(model.trainingModules) }

    var stepsPerEpoch: Int { trainLoader.batchesPerEpoch }
    var skipped: [SkippedSample] { trainLoader.skipped }

    func trainEpoch(_ epoch: Int, step: inout Int, rate: (Int) -> Float, progress: ProgressBar?) throws -> EpochLosses {
        model.setTraining(true)
        let totalSteps = config.epochs * stepsPerEpoch
        let stream = trainLoader.epoch(epoch)
        var lossSum = 0.0, batches = 0
        while let batch = try stream.next() {
            let lr = rate(step)
            let loss = model.trainStep(batch, optimizer: optimizer, learningRate: lr,
                                       discriminatorRate: discriminatorSchedule.rate(step: step, totalSteps: totalSteps), group: group)
            try requireFinite(loss, step: step, epoch: epoch)
            lossSum += Double(loss); batches += 1; step += 1
            progress?.update(batches, String(format: "loss %.4f lr %.2e", lossSum / Double(batches), lr))
        }
        return EpochLosses(loss: lossSum / Double(max(batches, 1)))
    }

    func validate() throws -> (score: Double?, figures: UNetValidation) {
        let v = try model.validate(validationLoader, threshold: config.threshold, group: group)
        return (v.dice, UNetValidation(dice: v.dice, loss: v.loss))
    }

    func saveBest(to url: URL, score: Double, epoch: Int) throws {
        try model.saveForInference(to: url, threshold: config.threshold, metrics: ["validationDice": score, "epoch": Double(epoch)])
    }

    func saveCheckpoint(_ state: TrainState, to url: URL) throws { try model.saveCheckpoint(optimizer: optimizer, state: state, to: url) }
    func loadCheckpoint(from url: URL) throws -> TrainState { try model.loadCheckpoint(optimizer: optimizer, from: url) }

    func describe(_ r: EpochRecord<UNetValidation>, epochs: Int) -> String {
        String(format: "epoch %d/%d  loss %.4f  val loss %.4f  val Dice %.4f%@  %.0fs", r.epoch + 1, epochs,
               r.trainLoss, r.validation.loss, r.validation.dice, r.best ? " (best)" : "", r.seconds)
    }

    /// The best model at the test images' own sizes; the figure is the mean Dice over images with a lesion.
    func evaluateTest(best: URL, folder: URL) throws -> (figures: Double, headline: String) {
        let e = try evaluate(try LoadedModel(best), samples: test, onError: config.onError); let (report, testSkipped) = (e.report, e.skipped)
        try writeEvaluation(report, name: config.name, skipped: testSkipped, to: folder)
        let dice = report.lesion.dice.mean ?? report.all.dice.mean ?? .nan
        return (dice, String(format: "Dice %.4f on %d images (per-image metrics in %@)", dice, test.count, folder.path))
    }
}
