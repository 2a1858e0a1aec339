import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData
import SonoModels
import SonoNN
import SonoTensor

/// Trains the configured classifier, segmenter or multitask model, writing config.json, log.jsonl,
/// last.safetensors (resumable), model.safetensors (best by validation score, the file `segment` and
/// `classify evaluate` read), test/ (the best model on the test part) and summary.json to `folder`.
public func trainTask(_ config: ClassifyConfig, folder: URL, resume: Bool = false, quiet: Bool = false, stopAfter: Int? = nil,
                      log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) throws -> TaskTrainSummary {
    try config.validate()
    Engine.retainFreedMemory()
    let run = RunFolder(folder)
    let (lock, speaks) = try beginRun(run, log: log) {
        try run.begin(config, resume: resume, load: ClassifyConfig.load, sameRun: { $0 == config })
    }
    defer { withExtendedLifetime(lock) {} }
    func say(_ line: String) { if speaks { log(line) } }
    let data = try prepareData(log: say) { try TaskData.prepare(config, folder: folder, log: say) }
    say("\(config.name): \(config.task.rawValue) with \(config.model.kind.rawValue); train \(data.parts.train.count), validation \(data.parts.validation.count), test \(data.parts.test.count) images at \(config.preprocess.width)px" + (config.classifies ? "; classes \(data.classNames)" : ""))
    let training = try TaskTraining(config, data: data, folder: folder)
    if let weights = training.classWeights {
        say("class weights " + zip(data.classNames, weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
    }
    let outcome = try runEpochs(training, plan: RunPlan(config.settings), run: run, resume: resume, stopAfter: stopAfter,
                                hasTestImages: !data.parts.test.isEmpty, quiet: quiet, log: say)
    let summary = TaskTrainSummary(task: config.task, model: config.model.kind, parameters: training.network.module.parameterCount,
                                   classNames: data.classNames, classWeights: training.classWeights, epochsRun: outcome.epochsRun,
                                   bestEpoch: outcome.state.bestEpoch + 1, bestValidationScore: outcome.state.bestScore,
                                   seconds: outcome.state.seconds, trainImages: data.parts.train.count,
                                   validationImages: data.parts.validation.count, testImages: data.parts.test.count,
                                   stoppedEarly: outcome.stoppedEarly, test: outcome.test)
    if ProcessGroup.current?.isLeader ?? true { try JSONFiles.write(summary, to: run.summary) }
    return summary
}

/// The classification, backbone-segmentation and multitask models' side of the run loop: a loader per epoch
/// (the balanced sampler redraws), dropout reseeded per epoch, the task's loss and validation score.
final class TaskTraining: Trainable {
    let config: ClassifyConfig
    let data: TaskData
    let folder: URL
    let network: TaskNetwork
    let loss: TaskLoss
    let optimizer: Optimizer
    let classWeights: [Float]?
    let positiveClass: Int
    /// The data-parallel job this rank trains in, if any: each rank takes its share of every batch, the
    /// gradients are averaged; validation runs whole on every rank (its scores, AUC and balanced accuracy, do
    /// not add up over parts).
    let group = ProcessGroup.current
    private var loaderSkipped: [SkippedSample] = []

    init(_ config: ClassifyConfig, data: TaskData, folder: URL) throws {
        (self.config, self.data, self.folder) = (config, data, folder)
        let k = data.classNames.count
        var rng = RandomGenerator(seed: config.seed)
        let modelConfig = config.model.resolved(task: config.task, classes: config.classifies ? k : 0, size: config.preprocess.width)
        network = TaskNetwork(modelConfig, rng: &rng)
        classWeights = config.classifies ? try SonoConvNets.classWeights(config, labels: data.trainLabels, classes: k) : nil
        loss = TaskLoss(task: config.task, segmentation: config.segmentationLoss, classWeights: classWeights,
                        segmentationWeight: config.segmentationWeight, classificationWeight: config.classificationWeight)
        optimizer = config.optimizer.makeOptimizer()
        positiveClass = data.classNames.firstIndex(of: config.positiveClass) ?? 1
    }

    /// Both samplers draw as many images as the training part holds; a last partial batch is dropped.
    var stepsPerEpoch: Int {
        let n = data.parts.train.count
        return n > config.batchSize ? n / config.batchSize : 1
    }

    var skipped: [SkippedSample] { loaderSkipped }

    func trainEpoch(_ epoch: Int, step: inout Int, rate: (Int) -> Float, progress: ProgressBar?) throws -> EpochLosses {
        let loader = try data.trainLoader(config, epoch: epoch, folder: folder)
        if let group { loader.split = .withinBatches(part: group.rank, parts: group.size) }
        defer { loaderSkipped = loader.skipped }
        let params = network.module.namedParameters()
        network.module.setTraining(true)
        // Each rank its own dropout stream (rank 0 the one-process stream), so ranks never share masks.
        let rank = UInt64(group?.rank ?? 0)
        reseedDropout(network.module, seed: config.seed ^ (rank &* 0x9E37_79B9_7F4A_7C15), epoch: epoch)
        var total = 0.0, cls = 0.0, seg = 0.0, batches = 0
        let stream = loader.epoch(epoch)
        while let batch = try stream.next() {
            let lr = rate(step)
            optimizer.zeroGrad(params)
            var values: [Float] = [0, 0, 0]
            if batch.count > 0 {
                let (x, y) = tensors(batch)
                let l = loss(network(x), labels: batch.labels, masks: y)
                values = [l.total.item, l.classification ?? 0, l.segmentation ?? 0]
                if group == nil { try requireFinite(values[0], step: step, epoch: epoch) }
                l.total.backward()
            }
            if let group {
                values = group.averageGradients(params, localCount: batch.count, localMeans: values).means
                try requireFinite(values[0], step: step, epoch: epoch)
            }
            if let clip = config.optimizer.gradientClipNorm { clipGradNorm(params, maxNorm: clip) }
            optimizer.update(params, learningRate: lr)
            total += Double(values[0]); cls += Double(values[1]); seg += Double(values[2])
            batches += 1; step += 1
            progress?.update(batches, String(format: "loss %.4f lr %.2e", total / Double(batches), lr))
        }
        let n = Double(max(batches, 1))
        let terms = config.task == .multitask ? ["classification": cls / n, "segmentation": seg / n] : nil
        return EpochLosses(loss: total / n, terms: terms)
    }

    func validate() throws -> (score: Double?, figures: TaskValidation) {
        let v = try validateTask(network, loader: data.validation, loss: loss, classNames: data.classNames,
                                 positiveClass: positiveClass, threshold: config.threshold)
        return (v.score, v)
    }

    func saveBest(to url: URL, score: Double, epoch: Int) throws {
        try saveTaskModel(network, config: config, classNames: data.classNames, to: url,
                          metrics: ["validationScore": score, "epoch": Double(epoch)])
    }

    func synchronise(_ group: ProcessGroup) { group.synchronise(network.module) }

    func saveCheckpoint(_ state: TrainState, to url: URL) throws {
        try Checkpoint.save(model: network.module, optimizer: optimizer, extra: state, to: url)
    }

    func loadCheckpoint(from url: URL) throws -> TrainState {
        try Checkpoint.load(model: network.module, optimizer: optimizer, extra: TrainState.self, from: url)
    }

    func describe(_ r: EpochRecord<TaskValidation>, epochs: Int) -> String {
        var s = String(format: "epoch %d/%d  loss %.4f  val loss %.4f", r.epoch + 1, epochs, r.trainLoss, r.validation.loss)
        if let a = r.validation.accuracy { s += String(format: "  val acc %.3f  bal acc %.3f", a, r.validation.balancedAccuracy ?? .nan) }
        if let d = r.validation.dice { s += String(format: "  val Dice %.4f", d) }
        return s + (r.best ? " (best)" : "") + String(format: "  %.0fs", r.seconds)
    }

    func evaluateTest(best: URL, folder: URL) throws -> (figures: TaskTestFigures, headline: String) {
        let evaluation = try evaluateTask(try LoadedModel(best), samples: data.parts.test, onError: config.onError)
        try writeTaskEvaluation(evaluation, name: config.name, to: folder)
        return (evaluation.figures, evaluation.headline)
    }
}

/// Writes the network alone with what inference needs in the header (the `sonoseg.model` format).
func saveTaskModel(_ network: TaskNetwork, config: ClassifyConfig, classNames: [String], to url: URL, metrics: [String: Double]) throws {
    var info = ModelInfo(architecture: config.model.kind.rawValue, unet: UNetConfig(), preprocess: config.preprocess,
                         threshold: config.threshold, stageHeads: 0, metrics: metrics, recipe: config.name)
    (info.task, info.classifier) = (config.task, network.config)
    info.classNames = network.classifies ? classNames : nil
    info.labels = config.labels == .className ? nil : config.labels
    try ModelInfo.save(network.module, info: info, to: url)
}

/// Gives every dropout layer a generator that depends only on (seed, epoch, layer), so a resumed run drops
/// the same units as an uninterrupted one.
func reseedDropout(_ module: Module, seed: UInt64, epoch: Int) {
    func collect(_ m: Module) -> [Dropout] { (m as? Dropout).map { [$0] } ?? m.children.flatMap { collect($0.1) } }
    for (i, d) in collect(module).enumerated() {
        var mixer = RandomGenerator(seed: seed, stream: [0x4452_4F50, UInt64(epoch), UInt64(i)])
        d.rng = RandomGenerator(seed: mixer.next())
    }
}
