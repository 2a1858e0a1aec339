import ArgumentParser
import Foundation
import SonoData
import SonoPipeline

/// Options shared by commands that train.
struct TrainingOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Dataset folder (repeatable; layout detected).")
    var data: [String] = []
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Square input size in pixels (divisible by 2^depth).") var size: Int?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "Loss: \(SegmentationLoss.allCases.map(\.rawValue).joined(separator: ", ")).") var loss: SegmentationLoss?
    @Option(help: "Optimizer: adam, adamw, sgd.") var optimizer: OptimizerConfig.Kind?
    @Option(help: "Schedule: constant, exponential, step, cosine, polynomial.") var schedule: OptimizerConfig.Schedule?
    @Option(help: "Decoder upsampling: transposed, nearest, bilinear.") var upsampling: UNetConfig.Upsampling?
    @Option(help: "U-Net base channels.") var base: Int?
    @Option(help: "Deeply supervised decoder stages (0-4, Li et al.).") var supervisedStages: Int?
    @Option(help: "Seed for weights, splits and augmentation.") var seed: UInt64?
    @Option(help: "Cross-validation fold to validate on.") var fold: Int?
    @Flag(help: "Train without augmentation.") var noAugment = false
    @Option(help: "On unreadable samples: fail or skip (skips are logged).") var onError: ErrorPolicy?

    /// The recipe with the command-line settings applied on top.
    func apply(to base0: TrainConfig) -> TrainConfig {
        var c = base0
        if !data.isEmpty { c.data = data.map { DataSource(path: $0) } }
        if let epochs { c.epochs = epochs }
        if let batchSize { c.batchSize = batchSize }
        if let size { c.preprocess.width = size; c.preprocess.height = size }
        if let lr { c.optimizer.learningRate = lr }
        if let loss { c.loss.kind = loss }
        if let optimizer { c.optimizer.kind = optimizer }
        if let schedule { c.optimizer.schedule = schedule }
        if let upsampling { c.model.upsampling = upsampling }
        if let base { c.model.baseChannels = base }
        if let supervisedStages { c.deepSupervision.stages = supervisedStages }
        if let seed { c.seed = seed; c.split.seed = seed }
        if let fold { c.fold = fold }
        if noAugment { c.augment = false }
        if let onError { c.onError = onError }
        return c
    }
}

extension SegmentationLoss: ExpressibleByArgument {}
extension OptimizerConfig.Kind: ExpressibleByArgument {}
extension OptimizerConfig.Schedule: ExpressibleByArgument {}
extension UNetConfig.Upsampling: ExpressibleByArgument {}
extension ErrorPolicy: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a segmentation model from a JSON recipe and/or flags.",
        discussion: """
        The run folder (--out) receives config.json, the split files, log.jsonl (one line per epoch), \
        last.safetensors (resumable checkpoint), model.safetensors (best model by validation Dice, the file \
        `segment --model` reads) and summary.json. A killed run continues with --resume.
        """)

    @Argument(help: "Recipe file (JSON); flags override its values.") var recipe: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Run folder.") var out: String
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { Parallel.threads = threads }
        let base = try recipe.map { try TrainConfig.load(URL(fileURLWithPath: $0)) } ?? TrainConfig()
        let config = options.apply(to: base)
        let summary = try train(config, folder: URL(fileURLWithPath: out), resume: resume)
        print(String(format: "best validation Dice %.4f at epoch %d of %d (%.0f s); model: %@/model.safetensors",
                     summary.bestValidationDice, summary.bestEpoch, summary.epochsRun, summary.seconds, out))
    }
}
