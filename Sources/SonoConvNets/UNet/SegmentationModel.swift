import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData
import SonoModels
import SonoNN
import SonoTensor

/// A U-Net with the training machinery of the chosen method: one loss on the output, or Li et al.'s deep
/// supervision (1x1 heads on the coarser decoder stages, upsampled to full size, weighted α) with a
/// discriminator per supervised stage (weight β, updated alternately with the segmenter).
public final class SegmentationModel: Module {
    public let config: TrainConfig
    /// What inference keeps: the U-Net and its stage heads.
    public let network: SupervisedUNet
    public let discriminators: [Discriminator]
    let discriminatorOptimizers: [Optimizer]
    public var isTraining = true

    public init(_ config: TrainConfig, rng: inout RandomGenerator) {
        self.config = config
        let ds = config.deepSupervision
        network = SupervisedUNet(config.model, heads: ds.stages - 1, rng: &rng)
        let adversarial = ds.stages > 0 && ds.adversarial
        discriminators = adversarial ? (0..<ds.stages).map { _ in Discriminator(rng: &rng) } : []
        discriminatorOptimizers = discriminators.map { _ in ds.discriminatorOptimizer.makeOptimizer() }
    }

    public var unet: UNet { network.unet }
    public var stageHeads: [Conv2D] { network.stageHeads }

    /// The segmenter's parameters: what inference needs and the main optimizer updates.
    public var children: [(String, Module)] { network.children }

    /// Everything that trains, discriminators included (checkpoints).
    var trainingChildren: [(String, Module)] {
        children + discriminators.enumerated().map { ("disc.\($0.offset)", $0.element as Module) }
    }

    func stageLogits(_ x: Tensor) -> [Tensor] { network.stageLogits(x) }

    /// One optimisation step on a batch at the segmenter's and the discriminators' rates; returns the
    /// segmentation loss. In a data-parallel job (`group`) the batch is this rank's share of the global batch
    /// (possibly empty), the gradients are averaged over the ranks before clipping and the step, and the loss
    /// returned is the global batch's.
    public func trainStep(_ batch: Batch, optimizer: Optimizer, learningRate: Float, discriminatorRate: Float,
                          group: ProcessGroup? = nil) -> Float {
        let shape = [batch.count, 1, batch.height, batch.width]
        let params = namedParameters()
        optimizer.zeroGrad(params)
        let ds = config.deepSupervision
        var segLoss: Float = 0
        var probabilities: [Tensor] = []
        var y: Tensor?
        if batch.count > 0 {
            let x = Tensor(batch.images, shape: shape), masks = Tensor(batch.masks, shape: shape)
            y = masks
            let weights = config.loss.boundaryWeight > 0
                ? Tensor(BoundaryWeights.map(batch.masks, count: batch.count, width: batch.width, height: batch.height,
                                             weight: config.loss.boundaryWeight, sigma: config.loss.boundarySigma), shape: shape) : nil
            let outputs = stageLogits(x)
            var total = config.loss(logits: outputs[0], masks: masks, pixelWeight: weights)
            segLoss = total.item
            for k in 1..<outputs.count { total = total + config.loss(logits: outputs[k], masks: masks, pixelWeight: weights) * ds.weights[k] }
            if !discriminators.isEmpty {
                probabilities = outputs.map { $0.sigmoid() }
                for (k, d) in discriminators.enumerated() {
                    d.setFrozen(true)
                    total = total + ganGeneratorLoss(fakeLogits: d(probabilities[k])) * ds.beta
                    d.setFrozen(false)
                }
            }
            total.backward()
        }
        if let group { segLoss = group.averageGradients(params, localCount: batch.count, localMeans: [segLoss]).means[0] }
        if let clip = config.optimizer.gradientClipNorm { clipGradNorm(params, maxNorm: clip) }
        optimizer.update(params, learningRate: learningRate)
        // Discriminators: real masks against the (now constant) predictions.
        for (k, d) in discriminators.enumerated() {
            let dp = d.namedParameters()
            discriminatorOptimizers[k].zeroGrad(dp)
            if let y { ganDiscriminatorLoss(realLogits: d(y), fakeLogits: d(probabilities[k].detach())).backward() }
            group?.averageGradients(dp, localCount: batch.count)
            discriminatorOptimizers[k].update(dp, learningRate: discriminatorRate)
        }
        return segLoss
    }

    /// Mean Dice over validation images (empty ground truth and empty prediction count as 1) and mean loss
    /// over batches. In a data-parallel job each rank scores its whole batches (`BatchSplit.wholeBatches`) and
    /// the sums are added over the ranks: the same batches, the same figures as one process.
    func validate(_ loader: BatchLoader, threshold: Float, group: ProcessGroup? = nil) throws -> (dice: Double, loss: Double) {
        setTraining(false)
        defer { setTraining(true) }
        var diceSum = 0.0, lossSum = 0.0, images = 0, batches = 0
        let stream = loader.epoch(0)
        while let batch = try stream.next() {
            let shape = [batch.count, 1, batch.height, batch.width]
            let x = Tensor(batch.images, shape: shape), y = Tensor(batch.masks, shape: shape)
            let logits = noGrad { unet(x) }
            // Without the boundary term's weights: the validation loss stays comparable between recipes.
            lossSum += Double(noGrad { config.loss(logits: logits, masks: y) }.item); batches += 1
            let p = logits.scalars, plane = batch.height * batch.width
            for i in 0..<batch.count {
                diceSum += hardDice(p[(i * plane)..<((i + 1) * plane)], batch.masks[(i * plane)..<((i + 1) * plane)], above: logitThreshold(threshold))
                images += 1
            }
        }
        if let group {
            let sums = group.agreedSum([diceSum, lossSum, Double(images), Double(batches)])
            (diceSum, lossSum, images, batches) = (sums[0], sums[1], Int(sums[2]), Int(sums[3]))
        }
        return (images > 0 ? diceSum / Double(images) : 0, batches > 0 ? lossSum / Double(batches) : 0)
    }

    /// Everything that trains, discriminators included, as one module (data-parallel synchronisation).
    var trainingModules: Module { ModuleGroup(trainingChildren) }

    // MARK: Checkpoints

    func saveCheckpoint(optimizer: Optimizer, state: TrainState, to url: URL) throws {
        let holder = ModuleGroup(trainingChildren)
        // Discriminator optimizers' state rides along under their own prefix.
        var extraState: [(String, Tensor)] = []
        for (k, o) in discriminatorOptimizers.enumerated() { extraState += o.state().map { ("discopt.\(k).\($0.0)", $0.1) } }
        try Checkpoint.save(model: holder.with(extraState), optimizer: optimizer, extra: state, to: url)
    }

    func loadCheckpoint(optimizer: Optimizer, from url: URL) throws -> TrainState {
        let holder = ModuleGroup(trainingChildren)
        let (tensors, _) = try Safetensors.read(url)
        let state = try Checkpoint.load(model: holder.with(placeholders(for: tensors)), optimizer: optimizer, extra: TrainState.self, from: url)
        for (k, o) in discriminatorOptimizers.enumerated() {
            let prefix = "model.discopt.\(k)."
            var s: [String: Tensor] = [:]
            for (name, t) in tensors where name.hasPrefix(prefix) { s[String(name.dropFirst(prefix.count))] = t }
            try o.load(state: s)
        }
        return state
    }

    /// Copies a trained model's U-Net weights (and any stage heads it has) into this one, for fine-tuning.
    /// Every U-Net tensor must be present with the same shape; returns the file read. An ensemble file (the
    /// bundled models/default) gives its first member's weights, so readers' corrections fine-tune the model
    /// that made the outlines they corrected.
    func loadInitialWeights(_ path: URL) throws -> URL {
        let url = modelFile(path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PipelineError.noModel("initialWeights: \(url.path): no such model file")
        }
        let (tensors, _) = try Safetensors.read(url)
        do {
            // Checkpoints (last.safetensors) keep the modules under "model.".
            let prefix = tensors.keys.contains { $0.hasPrefix("model.unet.") } ? "model."
                : tensors.keys.contains { $0.hasPrefix("m0.unet.") } ? "m0." : ""
            let own = Dictionary(tensors.compactMap { k, v in k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil },
                                 uniquingKeysWith: { a, _ in a }).filter { $0.key.hasPrefix("unet.") || $0.key.hasPrefix("heads.") }
            let report = try ModuleGroup(children).load(stateDict: own, strict: false)
            if let missing = report.missing.first(where: { $0.hasPrefix("unet.") }) {
                throw PipelineError.invalidConfig("initialWeights: \(url.path) has no '\(missing)' (\(report.missing.count) tensors missing): not the same U-Net")
            }
        } catch let error as StateDictError {
            throw PipelineError.invalidConfig("initialWeights: \(url.path): \(error) (the recipe's model must match the file's)")
        }
        return url
    }

    /// Placeholders for the discriminator optimizers' state, so the strict model load accepts those keys.
    private func placeholders(for tensors: [String: Tensor]) -> [(String, Tensor)] {
        tensors.filter { $0.key.hasPrefix("model.discopt.") }.map { (String($0.key.dropFirst("model.".count)), Tensor.zeros($0.value.shape)) }
    }

    /// Writes the segmenter alone (no discriminators, no optimizer) with what inference needs in the header.
    func saveForInference(to url: URL, threshold: Float, metrics: [String: Double]) throws {
        let info = ModelInfo(architecture: "unet", unet: config.model, preprocess: config.preprocess,
                             threshold: threshold, stageHeads: stageHeads.count, metrics: metrics, recipe: config.name)
        try ModelInfo.save(network, info: info, to: url)
    }
}

/// Modules gathered under names, for saving several as one state dict.
final class ModuleGroup: Module {
    var children: [(String, Module)]
    var buffers: [(String, Tensor)] = []
    var isTraining = true
    init(_ children: [(String, Module)]) { self.children = children }
    var ownBuffers: [(String, Tensor)] { buffers }
    func with(_ extra: [(String, Tensor)]) -> ModuleGroup { buffers = extra; return self }
}
