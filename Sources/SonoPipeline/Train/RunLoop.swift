import Foundation
import SonoBase
import SonoData

/// Where an epoch-based run stands, saved in every checkpoint: a killed run resumes at `nextEpoch` with the
/// result an uninterrupted one would have had (batches depend only on seed and epoch).
struct TrainState: Codable {
    var nextEpoch = 0
    var step = 0
    /// Best validation score so far (higher is better) and its epoch (0-based; -1: none yet).
    var bestScore = -1.0
    var bestEpoch = -1
    var epochsWithoutImprovement = 0
    var seconds = 0.0
}

/// Mean losses of one training epoch: the total, and the two terms of a multitask loss.
struct EpochLosses { var loss: Double; var classification: Double? = nil; var segmentation: Double? = nil }

/// One line of a run's `log.jsonl`, appended after every epoch by every epoch-based trainer; `validation` is
/// the model family's own figures.
public struct EpochRecord<Validation: Codable & Sendable>: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    /// The terms of a multitask loss (nil for single-task models).
    public var trainClassificationLoss: Double?
    public var trainSegmentationLoss: Double?
    public var validation: Validation
    public var learningRate: Float
    public var seconds: Double
    public var best: Bool
    public var skipped: [String] = []
}

/// One model family's side of the shared run loop (`runEpochs`): its training pass, its validation score and
/// its files. The loop owns everything else: resume, the learning-rate schedule, early stopping, the best
/// model, the log, checkpoints, progress, and the test evaluation at the end.
protocol Trainable: AnyObject {
    associatedtype Validation: Codable & Sendable
    associatedtype TestFigures

    /// Optimizer steps in one epoch (the schedule's length is epochs × this).
    var stepsPerEpoch: Int { get }
    /// One pass over the training data: a step per batch at `rate(step)`, advancing `step`.
    func trainEpoch(_ epoch: Int, step: inout Int, rate: (Int) -> Float, progress: ProgressBar?) throws -> EpochLosses
    /// The validation figures and the score that picks the best epoch (higher is better).
    func validate() throws -> (score: Double, figures: Validation)
    /// Writes the model in the inference format (`model.safetensors`), with its score and (1-based) epoch.
    func saveBest(to url: URL, score: Double, epoch: Int) throws
    func saveCheckpoint(_ state: TrainState, to url: URL) throws
    func loadCheckpoint(from url: URL) throws -> TrainState
    /// Images skipped while training so far (unreadable files under `onError: skip`).
    var skipped: [SkippedSample] { get }
    /// The epoch's line on standard error.
    func describe(_ record: EpochRecord<Validation>, epochs: Int) -> String
    /// Scores the saved best model on the test part, writing `folder`; a one-line headline for the log.
    func evaluateTest(best: URL, folder: URL) throws -> (figures: TestFigures, headline: String)
}

/// How a run of `runEpochs` ended.
struct RunOutcome<TestFigures> {
    var state: TrainState
    var epochsRun: Int
    var stoppedEarly: Bool
    /// The best model on the test part; nil when the run stopped before its end or has no test images.
    var test: TestFigures?
}

extension RunFolder {
    /// Starts or resumes a run here: refuses to overwrite a run unless resuming, and a resume with another
    /// recipe (`sameRun` compares the saved one); then writes `config.json`.
    func begin<C: Codable>(_ config: C, resume: Bool, load: (URL) throws -> C, sameRun: (C) -> Bool) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if !resume, FileManager.default.fileExists(atPath: last.path) {
            throw PipelineError.invalidConfig("\(url.path) already holds a run; pass --resume to continue it or choose another --out")
        }
        if resume, let saved = try? load(self.config), !sameRun(saved) {
            throw PipelineError.invalidConfig("\(self.config.path) differs from this run's configuration; resume with the same recipe")
        }
        try JSONFiles.write(config, to: self.config)
    }
}

/// Trains `model` for `settings.epochs` epochs in `run` (resuming from `last.safetensors` when `resume`),
/// keeping the epoch of the best validation score in `model.safetensors`, then scores that model on the test
/// part when the run reached its end. `stopAfter` ends this call after that many epochs, as a kill would.
func runEpochs<T: Trainable>(_ model: T, settings: TrainingSettings, run: RunFolder, resume: Bool, stopAfter: Int?,
                             hasTestImages: Bool, quiet: Bool, log: (String) -> Void) throws -> RunOutcome<T.TestFigures> {
    let schedule = settings.optimizer.makeSchedule()
    let totalSteps = settings.epochs * model.stepsPerEpoch
    let rate = { (step: Int) in schedule.rate(step: step, totalSteps: totalSteps) }

    var state = TrainState()
    if resume, FileManager.default.fileExists(atPath: run.last.path) {
        state = try model.loadCheckpoint(from: run.last)
        try JSONLines.keep(EpochRecord<T.Validation>.self, in: run.log) { $0.epoch < state.nextEpoch }
        log("resuming at epoch \(state.nextEpoch + 1) of \(settings.epochs) from \(run.last.path)")
    } else {
        try? FileManager.default.removeItem(at: run.log)
    }

    var epoch = state.nextEpoch, stoppedEarly = false
    let lastEpoch = min(settings.epochs, stopAfter.map { state.nextEpoch + $0 } ?? settings.epochs)
    while epoch < lastEpoch {
        let started = Date()
        let bar = quiet ? nil : ProgressBar(total: model.stepsPerEpoch, label: "epoch \(epoch + 1)/\(settings.epochs)")
        let losses = try model.trainEpoch(epoch, step: &state.step, rate: rate, progress: bar)
        let (score, figures) = try model.validate()
        let improved = score > state.bestScore
        if improved {
            (state.bestScore, state.bestEpoch, state.epochsWithoutImprovement) = (score, epoch, 0)
            try model.saveBest(to: run.best, score: score, epoch: epoch + 1)
        } else {
            state.epochsWithoutImprovement += 1
        }
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        state.nextEpoch = epoch + 1
        let record = EpochRecord(epoch: epoch, step: state.step, trainLoss: losses.loss,
                                 trainClassificationLoss: losses.classification, trainSegmentationLoss: losses.segmentation,
                                 validation: figures, learningRate: rate(max(state.step - 1, 0)), seconds: seconds,
                                 best: improved, skipped: model.skipped.map { "\($0.path): \($0.reason)" })
        // The log line goes before the checkpoint of the same epoch, so the log always matches the weights.
        try JSONLines.append(record, to: run.log)
        try model.saveCheckpoint(state, to: run.last)
        log(model.describe(record, epochs: settings.epochs))
        epoch += 1
        if let patience = settings.earlyStoppingPatience, state.epochsWithoutImprovement >= patience {
            log("early stop: no better validation score for \(patience) epochs")
            stoppedEarly = true
            break
        }
    }
    var test: T.TestFigures?
    if epoch == settings.epochs || stoppedEarly, hasTestImages, FileManager.default.fileExists(atPath: run.best.path) {
        let result = try model.evaluateTest(best: run.best, folder: run.url.appendingPathComponent("test"))
        test = result.figures
        log("test: " + result.headline)
    }
    return RunOutcome(state: state, epochsRun: epoch, stoppedEarly: stoppedEarly, test: test)
}
