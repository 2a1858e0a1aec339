import Foundation
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
    try startRunFolder(config, run: run, resume: resume)
    let data = try TaskData.prepare(config, folder: folder, log: log)
    let k = data.classNames.count
    log("\(config.name): \(config.task.rawValue) with \(config.model.kind.rawValue); train \(data.parts.train.count), validation \(data.parts.validation.count), test \(data.parts.test.count) images at \(config.preprocess.width)px" + (config.classifies ? "; classes \(data.classNames)" : ""))

    var rng = RandomGenerator(seed: config.seed)
    let modelConfig = config.model.resolved(task: config.task, classes: config.classifies ? k : 0, size: config.preprocess.width)
    let network = TaskNetwork(modelConfig, rng: &rng)
    let weights = config.classifies ? try classWeights(config, labels: data.trainLabels, classes: k) : nil
    if let weights { log("class weights " + zip(data.classNames, weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", ")) }
    let loss = TaskLoss(task: config.task, segmentation: config.segmentationLoss, classWeights: weights,
                        segmentationWeight: config.segmentationWeight, classificationWeight: config.classificationWeight)
    let optimizer = config.optimizer.makeOptimizer(), schedule = config.optimizer.makeSchedule()
    // Both samplers draw as many images as the training part holds; a last partial batch is dropped.
    let n = data.parts.train.count
    let stepsPerEpoch = n > config.batchSize ? n / config.batchSize : 1
    let totalSteps = config.epochs * stepsPerEpoch
    let positive = data.classNames.firstIndex(of: config.positiveClass) ?? 1

    var state = TaskTrainState()
    if resume, FileManager.default.fileExists(atPath: run.last.path) {
        state = try Checkpoint.load(model: network.module, optimizer: optimizer, extra: TaskTrainState.self, from: run.last)
        try TaskRunLog.truncate(run.log, before: state.nextEpoch)
        log("resuming at epoch \(state.nextEpoch + 1) of \(config.epochs) from \(run.last.path)")
    } else {
        try? FileManager.default.removeItem(at: run.log)
    }

    var epoch = state.nextEpoch, stoppedEarly = false
    let lastEpoch = min(config.epochs, stopAfter.map { state.nextEpoch + $0 } ?? config.epochs)
    while epoch < lastEpoch {
        let started = Date()
        let loader = try data.trainLoader(config, epoch: epoch, folder: folder)
        let sums = try trainEpoch(network, loader: loader, epoch: epoch, loss: loss, optimizer: optimizer, config: config,
                                  rate: { schedule.rate(step: $0, totalSteps: totalSteps) }, state: &state, quiet: quiet)
        let v = try validateTask(network, loader: data.validation, loss: loss, classNames: data.classNames,
                                 positiveClass: positive, threshold: config.threshold)
        let improved = v.score > state.bestScore
        if improved {
            (state.bestScore, state.bestEpoch, state.epochsWithoutImprovement) = (v.score, epoch, 0)
            try saveTaskModel(network, config: config, classNames: data.classNames, to: run.best,
                              metrics: ["validationScore": v.score, "epoch": Double(epoch + 1)])
        } else {
            state.epochsWithoutImprovement += 1
        }
        state.seconds += Date().timeIntervalSince(started)
        state.nextEpoch = epoch + 1
        let record = TaskEpochRecord(epoch: epoch, step: state.step, trainLoss: sums.loss, trainClassificationLoss: sums.classification,
                                     trainSegmentationLoss: sums.segmentation, validation: v,
                                     learningRate: schedule.rate(step: max(state.step - 1, 0), totalSteps: totalSteps),
                                     seconds: Date().timeIntervalSince(started), best: improved,
                                     skipped: loader.skipped.map { "\($0.path): \($0.reason)" })
        try TaskRunLog.append(record, to: run.log)
        try Checkpoint.save(model: network.module, optimizer: optimizer, extra: state, to: run.last)
        log(epochLine(record, epochs: config.epochs))
        epoch += 1
        if let patience = config.earlyStoppingPatience, state.epochsWithoutImprovement >= patience {
            log("early stop: no better validation score for \(patience) epochs")
            stoppedEarly = true
            break
        }
    }
    var test: TaskTestFigures?
    if epoch == config.epochs || stoppedEarly, !data.parts.test.isEmpty, FileManager.default.fileExists(atPath: run.best.path) {
        let evaluation = try evaluateTask(try LoadedModel(run.best), samples: data.parts.test, onError: config.onError)
        try writeTaskEvaluation(evaluation, name: config.name, to: folder.appendingPathComponent("test"))
        test = evaluation.figures
        log("test: " + evaluation.headline)
    }
    let summary = TaskTrainSummary(task: config.task, model: config.model.kind, parameters: network.module.parameterCount,
                                   classNames: data.classNames, classWeights: weights, epochsRun: epoch,
                                   bestEpoch: state.bestEpoch + 1, bestValidationScore: state.bestScore, seconds: state.seconds,
                                   trainImages: data.parts.train.count, validationImages: data.parts.validation.count,
                                   testImages: data.parts.test.count, stoppedEarly: stoppedEarly, test: test)
    try JSONFiles.write(summary, to: run.summary)
    return summary
}

/// Refuses to overwrite a run unless resuming, and a resume with a different recipe; writes config.json.
func startRunFolder(_ config: ClassifyConfig, run: RunFolder, resume: Bool) throws {
    try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
    if !resume, FileManager.default.fileExists(atPath: run.last.path) {
        throw PipelineError.invalidConfig("\(run.url.path) already holds a run; pass --resume to continue it or choose another --out")
    }
    if resume, let saved = try? ClassifyConfig.load(run.config), saved != config {
        throw PipelineError.invalidConfig("\(run.config.path) differs from this run's configuration; resume with the same recipe")
    }
    try JSONFiles.write(config, to: run.config)
}

/// Mean losses of one training epoch.
struct EpochLosses { var loss: Double; var classification: Double?; var segmentation: Double? }

/// One pass over `loader`: a forward, backward and optimizer step per batch.
func trainEpoch(_ network: TaskNetwork, loader: BatchLoader, epoch: Int, loss: TaskLoss, optimizer: Optimizer, config: ClassifyConfig,
                rate: (Int) -> Float, state: inout TaskTrainState, quiet: Bool) throws -> EpochLosses {
    let bar = ProgressBar(total: loader.batchesPerEpoch, label: "epoch \(epoch + 1)/\(config.epochs)")
    let params = network.module.namedParameters()
    network.module.setTraining(true)
    reseedDropout(network.module, seed: config.seed, epoch: epoch)
    var total = 0.0, cls = 0.0, seg = 0.0, batches = 0
    let stream = loader.epoch(epoch)
    while let batch = try stream.next() {
        let lr = rate(state.step)
        let (x, y) = tensors(batch)
        optimizer.zeroGrad(params)
        let l = loss(network(x), labels: batch.labels, masks: y)
        l.total.backward()
        if let clip = config.optimizer.gradientClipNorm { clipGradNorm(params, maxNorm: clip) }
        optimizer.update(params, learningRate: lr)
        total += Double(l.total.item); cls += Double(l.classification ?? 0); seg += Double(l.segmentation ?? 0)
        batches += 1; state.step += 1
        if !quiet { bar.update(batches, String(format: "loss %.4f lr %.2e", total / Double(batches), lr)) }
    }
    let n = Double(max(batches, 1))
    return EpochLosses(loss: total / n, classification: config.classifies ? cls / n : nil, segmentation: config.segments ? seg / n : nil)
}

func epochLine(_ r: TaskEpochRecord, epochs: Int) -> String {
    var s = String(format: "epoch %d/%d  loss %.4f  val loss %.4f", r.epoch + 1, epochs, r.trainLoss, r.validation.loss)
    if let a = r.validation.accuracy { s += String(format: "  val acc %.3f  bal acc %.3f", a, r.validation.balancedAccuracy ?? .nan) }
    if let d = r.validation.dice { s += String(format: "  val Dice %.4f", d) }
    return s + (r.best ? " (best)" : "") + String(format: "  %.0fs", r.seconds)
}

/// Writes the network alone with what inference needs in the header (the `sonoseg.model` format).
func saveTaskModel(_ network: TaskNetwork, config: ClassifyConfig, classNames: [String], to url: URL, metrics: [String: Double]) throws {
    var info = ModelInfo(architecture: config.model.kind.rawValue, unet: UNetConfig(), preprocess: config.preprocess,
                         threshold: config.threshold, stageHeads: 0, metrics: metrics, recipe: config.name)
    (info.task, info.classifier) = (config.task, network.config)
    info.classNames = network.classifies ? classNames : nil
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
