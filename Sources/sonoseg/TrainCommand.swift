import SonoConvNets
import SonoRegistry
import SonoImplicit
import ArgumentParser
import Foundation
import SonoData
import SonoPipeline
import SonoModels
import SonoNN
import SonoTensor

/// Options for the settings every epoch-based trainer shares (`TrainingSettings`: U-Net and classification
/// runs); each overrides the recipe.
struct SettingsOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Dataset folder (repeatable; layout detected).")
    var data: [String] = []
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Square input size in pixels (a multiple of the network's total downsampling).") var size: Int?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "Optimizer: adam, adamw, sgd.") var optimizer: OptimizerConfig.Kind?
    @Option(help: "Schedule: constant, exponential, step, cosine, polynomial.") var schedule: OptimizerConfig.Schedule?
    @Option(help: "Seed for weights, batch order and augmentation (the split stays as it is).") var seed: UInt64?
    @Option(help: "Seed for a split the run makes (data without a split file).") var splitSeed: UInt64?
    @Option(help: "Cross-validation fold to validate on.") var fold: Int?
    @Flag(help: "Train without augmentation.") var noAugment = false
    @Option(help: "On unreadable samples: fail or skip (skips are logged).") var onError: ErrorPolicy?

    func apply(to s: inout TrainingSettings) {
        if !data.isEmpty { s.data = data.map { DataSource(path: $0) } }
        if let epochs { s.epochs = epochs }
        if let batchSize { s.batchSize = batchSize }
        if let size { (s.preprocess.width, s.preprocess.height) = (size, size) }
        if let lr { s.optimizer.learningRate = lr }
        if let optimizer { s.optimizer.kind = optimizer }
        if let schedule { s.optimizer.schedule = schedule }
        // Two seeds, so that repeating a run with other weights keeps its held-out images.
        if let seed { s.seed = seed }
        if let splitSeed { s.split.seed = splitSeed }
        if let fold { s.fold = fold }
        if noAugment { s.augment = false }
        if let onError { s.onError = onError }
    }
}

/// Options of `sonoseg train` and `sonoseg cv`: the shared settings plus the U-Net's own.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var settings: SettingsOptions
    @Option(help: "Loss: \(SegmentationLoss.allCases.map(\.rawValue).joined(separator: ", ")).") var loss: SegmentationLoss?
    @Option(help: "Decoder upsampling: transposed, nearest, bilinear.") var upsampling: UNetConfig.Upsampling?
    @Option(help: "U-Net base channels.") var base: Int?
    @Option(help: "Deeply supervised decoder stages (0-4, Li et al.).") var supervisedStages: Int?
    @Option(help: "Start from this model's weights (file or run folder; same U-Net): fine-tuning.") var initialWeights: String?

    /// The recipe with the command-line settings applied on top.
    func apply(to base0: TrainConfig) -> TrainConfig {
        var c = base0
        settings.apply(to: &c.settings)
        if let loss { c.loss.kind = loss }
        if let upsampling { c.model.upsampling = upsampling }
        if let base { c.model.baseChannels = base }
        if let supervisedStages { c.deepSupervision.stages = supervisedStages }
        if let initialWeights { c.initialWeights = initialWeights }
        return c
    }

    /// The settings that mean the same for a classification-family run.
    func apply(to base: ClassifyConfig) -> ClassifyConfig {
        var c = base
        settings.apply(to: &c.settings)
        return c
    }

    /// An implicit network trains for steps, not epochs; U-Net settings are refused rather than ignored.
    func apply(to c: inout ImplicitTrainConfig) throws {
        let s = settings
        let unetOnly = [("--epochs", s.epochs != nil), ("--batch-size", s.batchSize != nil), ("--loss", loss != nil),
                        ("--optimizer", s.optimizer != nil), ("--schedule", s.schedule != nil), ("--upsampling", upsampling != nil),
                        ("--base", base != nil), ("--supervised-stages", supervisedStages != nil), ("--fold", s.fold != nil),
                        ("--no-augment", s.noAugment), ("--lr", s.lr != nil), ("--initial-weights", initialWeights != nil)]
        if let flag = unetOnly.first(where: \.1) {
            throw ValidationError("\(flag.0) does not apply to an implicit network (set it in the recipe; `sonoseg implicit train` has --steps and --max-minutes)")
        }
        if !s.data.isEmpty { c.data = s.data.map { DataSource(path: $0) } }
        if let size = s.size { (c.preprocess.width, c.preprocess.height) = (size, size) }
        if let seed = s.seed { c.seed = seed }
        if let splitSeed = s.splitSeed { c.split.seed = splitSeed }
        if let onError = s.onError { c.onError = onError }
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
        abstract: "Train a model from a JSON recipe and/or flags: U-Net, classifier, multitask or implicit network.",
        discussion: """
        The recipe decides the trainer (U-Net recipes, recipes/classify/*.json, recipes/implicit/*.json);         --task and --model choose it without a recipe. The run folder (--out) receives config.json, the split         files, log.jsonl (one line per epoch), last.safetensors (resumable checkpoint), model.safetensors (the         best model, the file `segment --model` reads) and summary.json. A killed run continues with --resume.
        """)

    @Argument(help: "Recipe file (JSON); flags override its values.") var recipe: String?
    @Option(help: "Task: segment (default), classify or multitask.") var task: ClassifyTask?
    @Option(help: "Network: unet (default), implicit, \(ClassifyModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Run folder.") var out: String
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false
    @Flag(help: ArgumentHelp("Train data-parallel under Open MPI's mpirun: the global batch is split across the ranks, gradients averaged with MPI_Allreduce; rank 0 writes the run folder.",
                             discussion: "mpirun -n R sonoseg train RECIPE --distributed --out RUN (docs/scale-out.md)."))
    var distributed = false
    @Option(help: ArgumentHelp("With --distributed: seconds any one collective may wait before its rank names itself and ends the job (0: no limit).", valueName: "seconds"))
    var mpiTimeout: Double = 600
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        // MPI_Finalize only after a run that ended well: a rank that fails exits without it, and mpirun then
        // ends the job instead of leaving the other ranks waiting.
        var group: ProcessGroup?
        let recipeURL = recipe.map { URL(fileURLWithPath: $0) }
        let loaded = try recipeURL.map(Recipe.load)   // the file is read here, once
        var kind = loaded?.kind ?? .unet
        if let model {
            guard let chosen = RecipeKind.forModel(model) else {
                throw ValidationError("--model '\(model)' is not one of: unet, implicit, \(ClassifyModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if recipeURL != nil, chosen != kind {
                throw ValidationError("--model \(model) does not match \(recipe!), a \(kind.rawValue) recipe")
            }
            kind = chosen
        }
        if let task, task != .segment || kind == .classify {
            if kind == .implicit { throw ValidationError("--task \(task.rawValue) does not apply to an implicit network") }
            kind = .classify
        }
        let folder = URL(fileURLWithPath: out)
        if distributed {
            if kind == .implicit { throw ValidationError(ImplicitDistributed.refusal) }
            guard mpiTimeout >= 0, mpiTimeout.isFinite else { throw ValidationError("--mpi-timeout must be 0 or more seconds") }
            group = try ProcessGroup.start(timeout: mpiTimeout)
        }
        switch kind {
        case .unet:
            var base = TrainConfig()
            if case .unet(let c) = loaded { base = c }
            let config = options.apply(to: base)
            try Recipe.unet(config).validate(recipe: recipe)
            let summary = try train(config, folder: folder, resume: resume)
            print(String(format: "best validation Dice %.4f at epoch %d of %d (%.0f s); model: %@/model.safetensors",
                         summary.bestValidationDice, summary.bestEpoch, summary.epochsRun, summary.seconds, out))
        case .classify:
            var base = ClassifyConfig()
            if case .classify(let c) = loaded { base = c }
            var config = options.apply(to: base)
            if let task { config.task = task }
            if let model, let m = ClassifyModelKind(rawValue: model) { config.model.kind = m }
            try Recipe.classify(config).validate(recipe: recipe)
            let s = try trainTask(config, folder: folder, resume: resume)
            print(String(format: "best validation score %.4f at epoch %d of %d (%.0f s); model: %@/model.safetensors",
                         s.bestValidationScore, s.bestEpoch, s.epochsRun, s.seconds, out))
        case .implicit:
            guard case .implicit(var config) = loaded else {
                throw ValidationError("an implicit network trains from a recipe, e.g. recipes/implicit/nisf.json")
            }
            try options.apply(to: &config)
            try Recipe.implicit(config).validate(recipe: recipe)
            let s = try trainImplicit(config, folder: folder, resume: resume, log: stderrLog)
            print(String(format: "%d steps in %.0fs; K = %d latent steps, validation Dice %.4f; model in %@/model.safetensors",
                         s.steps, s.seconds, s.inferenceSteps, s.validationDice, out))
        }
        group?.finish()
    }
}
