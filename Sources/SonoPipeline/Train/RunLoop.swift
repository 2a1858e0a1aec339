import Foundation
import SonoBase
import SonoData
import SonoNN
import SonoTensor

/// Where a run stands, saved in every checkpoint: a killed run resumes at `nextEpoch` with the result an
/// uninterrupted one would have had (batches depend only on seed and epoch, or seed and step).
public struct TrainState: Codable {
    public init() {}
    public var nextEpoch = 0
    public var step = 0
    /// Best validation score so far (higher is better) and its epoch (0-based; -1: none yet).
    public var bestScore = -1.0
    public var bestEpoch = -1
    public var epochsWithoutImprovement = 0
    public var seconds = 0.0
    /// Worker threads of the run so far: oneDNN's reductions (weight gradients) sum in an order that depends on
    /// the thread count, so a resume on another count continues differently from an uninterrupted run.
    public var threads: Int?
}

/// Mean losses of one training epoch: the total, and the terms of a loss made of several (a multitask model's
/// classification and segmentation, an implicit network's reconstruction, segmentation and regularisers).
public struct EpochLosses {
    public var loss: Double
    public var terms: [String: Double]?
    public init(loss: Double, terms: [String: Double]? = nil) { (self.loss, self.terms) = (loss, terms) }
}

/// One line of a run's `log.jsonl`, appended after every epoch by every trainer; `validation` is the model
/// family's own figures.
public struct EpochRecord<Validation: Codable & Sendable>: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    /// Mean of each term of the training loss, for losses made of several (nil otherwise).
    public var trainTerms: [String: Double]?
    public var validation: Validation
    public var learningRate: Float
    public var seconds: Double
    public var best: Bool
    public var skipped: [String] = []
}

/// One model family's side of the shared run loop (`runEpochs`): its training pass, its validation score and
/// its files. The loop owns everything else: resume, the learning-rate schedule, early stopping, the best
/// model, the log, checkpoints, progress, and the test evaluation at the end. An "epoch" is the loop's unit:
/// a pass over the data for the U-Net and the classifiers, `logEvery` steps for an auto-decoder.
public protocol Trainable: AnyObject {
    associatedtype Validation: Codable & Sendable
    associatedtype TestFigures

    /// Optimizer steps in one epoch (the schedule's length is epochs × this).
    var stepsPerEpoch: Int { get }
    /// One pass over the training data: a step per batch at `rate(step)`, advancing `step`.
    func trainEpoch(_ epoch: Int, step: inout Int, rate: (Int) -> Float, progress: ProgressBar?) throws -> EpochLosses
    /// The validation figures and the score that picks the best epoch (higher is better); a nil score when the
    /// model is not validated per epoch (no best model is kept then, and no early stop).
    func validate() throws -> (score: Double?, figures: Validation)
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
    /// Whether to write `last.safetensors` after `epoch` (it is always written after the last one and on a stop).
    func checkpoints(after epoch: Int) -> Bool
    /// Why the run should end now although epochs remain (a wall-time budget), or nil.
    func stopReason(_ state: TrainState) -> String?
    /// The progress bar's label for `epoch` (0-based) of `epochs`.
    func progressLabel(_ epoch: Int, of epochs: Int) -> String
}

extension Trainable {
    public func checkpoints(after epoch: Int) -> Bool { true }
    public func stopReason(_ state: TrainState) -> String? { nil }
    public func progressLabel(_ epoch: Int, of epochs: Int) -> String { "epoch \(epoch + 1)/\(epochs)" }
}

/// How long a run is and how its rate moves.
public struct RunPlan {
    public var epochs: Int
    public var schedule: LearningRateSchedule
    /// The schedule's length (nil: epochs × stepsPerEpoch).
    public var totalSteps: Int?
    public var earlyStoppingPatience: Int?

    public init(epochs: Int, schedule: LearningRateSchedule, totalSteps: Int? = nil, earlyStoppingPatience: Int? = nil) {
        (self.epochs, self.schedule, self.totalSteps, self.earlyStoppingPatience) = (epochs, schedule, totalSteps, earlyStoppingPatience)
    }

    /// The shared settings of the epoch-based recipes.
    public init(_ settings: TrainingSettings) {
        self.init(epochs: settings.epochs, schedule: settings.optimizer.makeSchedule(),
                  earlyStoppingPatience: settings.earlyStoppingPatience)
    }
}

/// How a run of `runEpochs` ended.
public struct RunOutcome<TestFigures> {
    public var state: TrainState
    public var epochsRun: Int
    public var stoppedEarly: Bool
    /// Why the trainable ended the run before its last epoch (`stopReason`), if it did.
    public var stopReason: String?
    /// The best model on the test part; nil when the run stopped before its end or has no test images.
    public var test: TestFigures?
}

extension RunFolder {
    /// Starts or resumes a run here: locks the folder against a second trainer, refuses to overwrite a run
    /// unless resuming, and a resume with another recipe (`sameRun` compares the saved one); then writes
    /// `config.json`. The caller keeps the returned lock for the run's lifetime.
    public func begin<C: Codable>(_ config: C, resume: Bool, load: (URL) throws -> C, sameRun: (C) -> Bool) throws -> FolderLock {
        let lock = try FolderLock(url, purpose: "training")
        if !resume, FileManager.default.fileExists(atPath: last.path) {
            throw PipelineError.invalidConfig("\(url.path) already holds a run; pass --resume to continue it or choose another --out")
        }
        if resume, let saved = try? load(self.config), !sameRun(saved) {
            throw PipelineError.invalidConfig("\(self.config.path) differs from this run's configuration; resume with the same recipe")
        }
        try JSONFiles.write(config, to: self.config)
        return lock
    }
}

/// Trains `model` for `plan.epochs` epochs in `run` (resuming from `last.safetensors` when `resume`),
/// keeping the epoch of the best validation score in `model.safetensors`, then scores that model on the test
/// part when the run reached its end. `stopAfter` ends this call after that many epochs, as a kill would.
public func runEpochs<T: Trainable>(_ model: T, plan: RunPlan, run: RunFolder, resume: Bool, stopAfter: Int?,
                             hasTestImages: Bool, quiet: Bool, log: (String) -> Void) throws -> RunOutcome<T.TestFigures> {
    let epochs = plan.epochs, schedule = plan.schedule
    let totalSteps = plan.totalSteps ?? epochs * model.stepsPerEpoch
    let rate = { (step: Int) in schedule.rate(step: step, totalSteps: totalSteps) }

    var state = TrainState()
    if resume, FileManager.default.fileExists(atPath: run.last.path) {
        state = try model.loadCheckpoint(from: run.last)
        try JSONLines.keep(EpochRecord<T.Validation>.self, in: run.log) { $0.epoch < state.nextEpoch }
        log("resuming at epoch \(state.nextEpoch + 1) of \(epochs) from \(run.last.path)")
        if let threads = state.threads, threads != Engine.threads {
            log("note: this run used \(threads) threads and resumes with \(Engine.threads); floating-point sums then add up "
                + "in another order, so the result will differ slightly from an uninterrupted run (--threads \(threads) avoids it)")
        }
    } else {
        try? FileManager.default.removeItem(at: run.log)
    }

    var epoch = state.nextEpoch, stoppedEarly = false, stopReason: String?
    let lastEpoch = min(epochs, stopAfter.map { state.nextEpoch + $0 } ?? epochs)
    while epoch < lastEpoch {
        let started = Date()
        let bar = quiet ? nil : ProgressBar(total: model.stepsPerEpoch, label: model.progressLabel(epoch, of: epochs))
        let losses = try model.trainEpoch(epoch, step: &state.step, rate: rate, progress: bar)
        let (score, figures) = try model.validate()
        let improved = score.map { $0 > state.bestScore } ?? false
        if let score, improved {
            (state.bestScore, state.bestEpoch, state.epochsWithoutImprovement) = (score, epoch, 0)
            try model.saveBest(to: run.best, score: score, epoch: epoch + 1)
        } else if score != nil {
            state.epochsWithoutImprovement += 1
        }
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        state.nextEpoch = epoch + 1
        state.threads = Engine.threads
        let record = EpochRecord(epoch: epoch, step: state.step, trainLoss: losses.loss, trainTerms: losses.terms,
                                 validation: figures, learningRate: rate(max(state.step - 1, 0)), seconds: seconds,
                                 best: improved, skipped: model.skipped.map { "\($0.path): \($0.reason)" })
        // The log line goes before the checkpoint of the same epoch, so the log always matches the weights.
        try JSONLines.append(record, to: run.log)
        TrainingCurves.write(log: run.log)
        stopReason = model.stopReason(state)
        if model.checkpoints(after: epoch) || epoch + 1 == lastEpoch || stopReason != nil {
            try model.saveCheckpoint(state, to: run.last)
        }
        log(model.describe(record, epochs: epochs))
        epoch += 1
        if let stopReason {
            log(stopReason)
            break
        }
        if let patience = plan.earlyStoppingPatience, state.epochsWithoutImprovement >= patience {
            log("early stop: no better validation score for \(patience) epochs")
            stoppedEarly = true
            break
        }
    }
    if state.bestEpoch >= 0 && state.bestScore == 0 {
        log("warning: the best validation score is 0 (epoch \(state.bestEpoch + 1)): model.safetensors finds nothing of the "
            + "validation set; check the masks and the learning rate before using it")
    }
    var test: T.TestFigures?
    if epoch == epochs || stoppedEarly, hasTestImages, FileManager.default.fileExists(atPath: run.best.path) {
        let result = try model.evaluateTest(best: run.best, folder: run.url.appendingPathComponent("test"))
        test = result.figures
        log("test: " + result.headline)
    }
    return RunOutcome(state: state, epochsRun: epoch, stoppedEarly: stoppedEarly, stopReason: stopReason, test: test)
}

/// Stops a run at its first non-finite loss: going on would train every remaining epoch on NaN and save
/// nothing useful. The checkpoint of the last complete epoch stays in `last.safetensors`.
public func requireFinite(_ loss: Float, step: Int, epoch: Int) throws {
    guard !loss.isFinite else { return }
    // "nan", never "-nan": which NaN's sign bit survives a reduction depends on the kernel's order, not on the run.
    throw PipelineError.diverged("training diverged: the loss is \(loss.isNaN ? "nan" : "\(loss)") at step \(step + 1) (epoch \(epoch + 1)); "
        + "last.safetensors keeps the last complete epoch. Lower optimizer.learningRate or set optimizer.gradientClipNorm, "
        + "then train again")
}
