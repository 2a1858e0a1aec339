import Foundation
import SonoBase
import SonoData
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

/// Progress saved with each checkpoint, so a killed run resumes at the next epoch with the same result as an
/// uninterrupted one (batches depend only on seed and epoch).
struct TrainState: Codable {
    var nextEpoch: Int
    var step: Int
    var bestDice: Double
    var bestEpoch: Int
    var epochsWithoutImprovement: Int
    var seconds: Double
}

/// Files of a run folder.
public struct RunFolder {
    public let url: URL
    public init(_ url: URL) { self.url = url }
    public var config: URL { url.appendingPathComponent("config.json") }
    public var log: URL { url.appendingPathComponent("log.jsonl") }
    public var last: URL { url.appendingPathComponent("last.safetensors") }
    /// The best model by validation Dice, in the inference format `segment` reads.
    public var best: URL { url.appendingPathComponent("model.safetensors") }
    public var summary: URL { url.appendingPathComponent("summary.json") }
    public var skipped: URL { url.appendingPathComponent("skipped.json") }
}

/// Trains a U-Net (optionally deeply supervised and adversarial) as the config says, writing everything to
/// `folder`. With `resume`, continues from `last.safetensors` when it exists.
/// `stopAfter` ends this invocation after that many epochs, as a kill would (tests of resume use it).
public func train(_ config: TrainConfig, folder: URL, resume: Bool = false, quiet: Bool = false, stopAfter: Int? = nil,
                  log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) throws -> TrainSummary {
    try config.validate()
    Engine.retainFreedMemory()
    let run = RunFolder(folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    if !resume, FileManager.default.fileExists(atPath: run.last.path) {
        throw PipelineError.invalidConfig("\(folder.path) already holds a run; pass --resume to continue it or choose another --out")
    }
    if resume, let saved = try? TrainConfig.load(run.config), saved != config {
        throw PipelineError.invalidConfig("\(run.config.path) differs from this run's configuration; resume with the same recipe")
    }
    try JSONFiles.write(config, to: run.config)

    let data = try TrainingData.prepare(config, runFolder: folder, log: log)
    guard !data.train.isEmpty, !data.validation.isEmpty else {
        throw PipelineError.emptyDataset("no training or validation images (train \(data.train.count), validation \(data.validation.count))")
    }
    log("train \(data.train.count), validation \(data.validation.count), test \(data.test.count) images at \(config.preprocess.width)x\(config.preprocess.height)")

    var rng = RandomGenerator(seed: config.seed)
    let model = SegmentationModel(config, rng: &rng)
    let optimizer = config.optimizer.makeOptimizer()
    let schedule = config.optimizer.makeSchedule()
    let cache = folder.appendingPathComponent("cache")
    let trainLoader = try BatchLoader(samples: data.train, preprocess: config.preprocess,
                                      augmentation: config.augment ? config.augmentation : nil,
                                      config: LoaderConfig(batchSize: config.batchSize, shuffle: true, dropLast: data.train.count > config.batchSize,
                                                           onError: config.onError, seed: config.seed),
                                      cacheFolder: cache)
    let validationLoader = try BatchLoader(samples: data.validation, preprocess: config.preprocess, augmentation: nil,
                                           config: LoaderConfig(batchSize: config.batchSize, shuffle: false, onError: config.onError, seed: config.seed),
                                           cacheFolder: cache)
    let totalSteps = config.epochs * trainLoader.batchesPerEpoch

    var state = TrainState(nextEpoch: 0, step: 0, bestDice: -1, bestEpoch: -1, epochsWithoutImprovement: 0, seconds: 0)
    if resume, FileManager.default.fileExists(atPath: run.last.path) {
        state = try model.loadCheckpoint(optimizer: optimizer, from: run.last)
        try RunLog.truncate(run.log, before: state.nextEpoch)
        log("resuming at epoch \(state.nextEpoch + 1) of \(config.epochs) from \(run.last.path)")
    } else {
        try? FileManager.default.removeItem(at: run.log)
        if let initial = config.initialWeights {
            let loaded = try model.loadInitialWeights(URL(fileURLWithPath: initial))
            log("starting from \(loaded.path) (fine-tuning)")
        }
    }

    var stoppedEarly = false
    var epoch = state.nextEpoch
    let lastEpoch = min(config.epochs, stopAfter.map { state.nextEpoch + $0 } ?? config.epochs)
    while epoch < lastEpoch {
        let started = Date()
        let bar = ProgressBar(total: trainLoader.batchesPerEpoch, label: "epoch \(epoch + 1)/\(config.epochs)")
        model.setTraining(true)
        let stream = trainLoader.epoch(epoch)
        var lossSum = 0.0, batches = 0
        while let batch = try stream.next() {
            let lr = schedule.rate(step: state.step, totalSteps: totalSteps)
            let loss = model.trainStep(batch, optimizer: optimizer, learningRate: lr)
            lossSum += Double(loss); batches += 1; state.step += 1
            if !quiet { bar.update(batches, String(format: "loss %.4f lr %.2e", lossSum / Double(batches), lr)) }
        }
        let (dice, vloss) = try model.validate(validationLoader, threshold: config.threshold)
        let improved = dice > state.bestDice
        if improved {
            state.bestDice = dice; state.bestEpoch = epoch; state.epochsWithoutImprovement = 0
            try model.saveForInference(to: run.best, threshold: config.threshold, metrics: ["validationDice": dice, "epoch": Double(epoch + 1)])
        } else {
            state.epochsWithoutImprovement += 1
        }
        state.seconds += Date().timeIntervalSince(started)
        state.nextEpoch = epoch + 1
        let record = EpochRecord(epoch: epoch, step: state.step, trainLoss: lossSum / Double(max(batches, 1)),
                                 validationDice: dice, validationLoss: vloss,
                                 learningRate: schedule.rate(step: max(state.step - 1, 0), totalSteps: totalSteps),
                                 seconds: Date().timeIntervalSince(started), best: improved,
                                 skipped: trainLoader.skipped.map { "\($0.path): \($0.reason)" })
        try RunLog.append(record, to: run.log)
        try model.saveCheckpoint(optimizer: optimizer, state: state, to: run.last)
        log(String(format: "epoch %d/%d  loss %.4f  val loss %.4f  val Dice %.4f%@  %.0fs", epoch + 1, config.epochs,
                   record.trainLoss, vloss, dice, improved ? " (best)" : "", record.seconds))
        epoch += 1
        if let patience = config.earlyStoppingPatience, state.epochsWithoutImprovement >= patience {
            log("early stop: no better validation Dice for \(patience) epochs")
            stoppedEarly = true
            break
        }
    }
    // Score the best model on the held-out test images, at their own sizes, once training is over.
    var testDice: Double?
    if epoch == config.epochs || stoppedEarly, !data.test.isEmpty, FileManager.default.fileExists(atPath: run.best.path) {
        let model = try LoadedModel(run.best)
        let (report, testSkipped) = try evaluate(model, samples: data.test, onError: config.onError)
        try writeEvaluation(report, name: config.name, skipped: testSkipped, to: folder.appendingPathComponent("test"))
        testDice = report.lesion.dice.mean ?? report.all.dice.mean
        log(String(format: "test: Dice %.4f on %d images (per-image metrics in %@/test/)", testDice ?? .nan, data.test.count, folder.path))
    }
    let skipped = trainLoader.skipped + validationLoader.skipped
    if !skipped.isEmpty { try JSONFiles.write(skipped, to: run.skipped) }
    let summary = TrainSummary(epochsRun: epoch, bestEpoch: state.bestEpoch + 1, bestValidationDice: state.bestDice,
                               seconds: state.seconds, trainImages: data.train.count, validationImages: data.validation.count,
                               testImages: data.test.count, stoppedEarly: stoppedEarly, testDice: testDice)
    try JSONFiles.write(summary, to: run.summary)
    return summary
}

