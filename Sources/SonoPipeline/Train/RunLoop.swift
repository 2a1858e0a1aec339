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
    /// MPI ranks of the run so far (nil: one process). The global batch is the recipe's at any count, so a
    /// resume on another count continues the same optimisation; what changes is the order of the sums and, with
    /// batch norm, the images each rank's batch statistics see.
    public var ranks: Int?
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
    /// Data-parallel runs: the ranks, and rank 0's seconds in collectives (gradient allreduce, synchronisation,
    /// validation sums) during this epoch.
    public var ranks: Int?
    public var communicationSeconds: Double?
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
    /// Data-parallel runs: makes every rank's model rank 0's (weights, buffers; batch-norm running statistics
    /// averaged over the ranks first). Called before the first epoch and after each one.
    func synchronise(_ group: ProcessGroup)
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
    // A data-parallel job: every rank trains, validates and synchronises; rank 0 alone writes and speaks.
    let group = ProcessGroup.current, leader = group?.isLeader ?? true
    func say(_ line: String) { if leader { log(line) } }
    let epochs = plan.epochs, schedule = plan.schedule
    let totalSteps = plan.totalSteps ?? epochs * model.stepsPerEpoch
    let rate = { (step: Int) in schedule.rate(step: step, totalSteps: totalSteps) }

    var state = TrainState()
    var resuming = resume && FileManager.default.fileExists(atPath: run.last.path)
    if let group, resume {
        let seen = Int(group.agreedSum([resuming ? 1 : 0])[0])
        guard seen == 0 || seen == group.size else {
            throw PipelineError.invalidConfig("--resume: \(run.last.path) is seen by \(seen) of \(group.size) ranks; "
                + "the run folder must be on a file system every rank sees")
        }
        resuming = seen > 0
    }
    if resuming {
        state = try model.loadCheckpoint(from: run.last)
        if leader { try JSONLines.keep(EpochRecord<T.Validation>.self, in: run.log) { $0.epoch < state.nextEpoch } }
        say("resuming at epoch \(state.nextEpoch + 1) of \(epochs) from \(run.last.path)")
        if let threads = state.threads, threads != Engine.threads {
            say("note: this run used \(threads) threads and resumes with \(Engine.threads); floating-point sums then add up "
                + "in another order, so the result will differ slightly from an uninterrupted run (--threads \(threads) avoids it)")
        }
        let ranks = group?.size ?? 1
        if (state.ranks ?? 1) != ranks {
            say("note: this run used \(state.ranks ?? 1) rank(s) and resumes with \(ranks): the global batch, the batches' order and "
                + "the schedule are the same; the gradients' sums add up in another order, and batch-norm statistics are taken "
                + "over each rank's share of a batch, so the result will differ slightly from an uninterrupted run")
        }
    } else if leader {
        try? FileManager.default.removeItem(at: run.log)
    }
    if let group {
        model.synchronise(group)   // rank 0's initial (or resumed) weights everywhere
        _ = group.takeCommunicationSeconds()
    }

    var epoch = state.nextEpoch, stoppedEarly = false, stopReason: String?
    let lastEpoch = min(epochs, stopAfter.map { state.nextEpoch + $0 } ?? epochs)
    while epoch < lastEpoch {
        let started = Date()
        let bar = quiet || !leader ? nil : ProgressBar(total: model.stepsPerEpoch, label: model.progressLabel(epoch, of: epochs))
        let losses = try model.trainEpoch(epoch, step: &state.step, rate: rate, progress: bar)
        if let group { model.synchronise(group) }
        let (score, figures) = try model.validate()
        let communication = group?.takeCommunicationSeconds()
        let improved = score.map { $0 > state.bestScore } ?? false
        if let score, improved {
            (state.bestScore, state.bestEpoch, state.epochsWithoutImprovement) = (score, epoch, 0)
            if leader { try model.saveBest(to: run.best, score: score, epoch: epoch + 1) }
        } else if score != nil {
            state.epochsWithoutImprovement += 1
        }
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        state.nextEpoch = epoch + 1
        state.threads = Engine.threads
        state.ranks = group?.size
        let record = EpochRecord(epoch: epoch, step: state.step, trainLoss: losses.loss, trainTerms: losses.terms,
                                 validation: figures, learningRate: rate(max(state.step - 1, 0)), seconds: seconds,
                                 best: improved, skipped: model.skipped.map { "\($0.path): \($0.reason)" },
                                 ranks: group?.size, communicationSeconds: communication)
        stopReason = model.stopReason(state)
        if leader {
            // The log line goes before the checkpoint of the same epoch, so the log always matches the weights.
            try JSONLines.append(record, to: run.log)
            TrainingCurves.write(log: run.log)
            if model.checkpoints(after: epoch) || epoch + 1 == lastEpoch || stopReason != nil {
                try model.saveCheckpoint(state, to: run.last)
            }
        }
        say(model.describe(record, epochs: epochs))
        epoch += 1
        if let stopReason {
            say(stopReason)
            break
        }
        if let patience = plan.earlyStoppingPatience, state.epochsWithoutImprovement >= patience {
            say("early stop: no better validation score for \(patience) epochs")
            stoppedEarly = true
            break
        }
    }
    if state.bestEpoch >= 0 && state.bestScore == 0 {
        say("warning: the best validation score is 0 (epoch \(state.bestEpoch + 1)): model.safetensors finds nothing of the "
            + "validation set; check the masks and the learning rate before using it")
    }
    var test: T.TestFigures?
    // The test part is scored by rank 0 alone (the other ranks are done).
    if leader, epoch == epochs || stoppedEarly, hasTestImages, FileManager.default.fileExists(atPath: run.best.path) {
        let result = try model.evaluateTest(best: run.best, folder: run.url.appendingPathComponent("test"))
        test = result.figures
        say("test: " + result.headline)
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
