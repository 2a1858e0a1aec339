import Foundation
import SonoMetrics
import SonoPipeline
import SonoData

/// The data of a run: partitions, class order, labels of the training images, loaders.
struct TaskData {
    var parts: TrainingData
    var classNames: [String]
    var trainLabels: [Int]
    var validation: BatchLoader

    static func prepare(_ config: ClassifyConfig, folder: URL, log: (String) -> Void) throws -> TaskData {
        var parts = try TrainingData.prepare(config.dataConfig, runFolder: folder, log: log)
        if config.labels != .className {
            var unlabelled = 0
            for keyPath in [\TrainingData.train, \.validation, \.test] {
                let r = config.labels.relabel(parts[keyPath: keyPath])
                parts[keyPath: keyPath] = r.samples; unlabelled += r.unlabelled
            }
            if unlabelled > 0 { log("left out \(unlabelled) images without a \(config.labels.rawValue) label") }
        }
        guard !parts.train.isEmpty, !parts.validation.isEmpty else {
            throw PipelineError.emptyDataset("no training or validation images (train \(parts.train.count), validation \(parts.validation.count))")
        }
        let names = config.classNames ?? Array(Set(parts.train.compactMap(\.className))).sorted()
        if config.classifies {
            guard names.count >= 2 else { throw PipelineError.emptyDataset("classification needs at least two classes, the data has \(names)") }
            _ = try classLabels(parts.validation + parts.test, classNames: names)
        }
        let labels = config.classifies ? try classLabels(parts.train, classNames: names) : []
        let validation = try BatchLoader(samples: parts.validation, classNames: names, preprocess: config.preprocess, augmentation: nil,
                                         config: LoaderConfig(batchSize: config.batchSize, shuffle: false, onError: config.onError, seed: config.seed),
                                         cacheFolder: folder.appendingPathComponent("cache"))
        return TaskData(parts: parts, classNames: names, trainLabels: labels, validation: validation)
    }

    /// The training loader of `epoch` (a new draw each epoch with the balanced sampler).
    func trainLoader(_ config: ClassifyConfig, epoch: Int, folder: URL) throws -> BatchLoader {
        let samples = config.sampler == .balanced && config.classifies
            ? balancedDraw(parts.train, labels: trainLabels, classes: classNames.count, seed: config.seed, epoch: epoch) : parts.train
        return try BatchLoader(samples: samples, classNames: classNames, preprocess: config.preprocess,
                               augmentation: config.augment ? config.augmentation : nil,
                               config: LoaderConfig(batchSize: config.batchSize, shuffle: true, dropLast: samples.count > config.batchSize,
                                                    onError: config.onError, seed: config.seed),
                               cacheFolder: folder.appendingPathComponent("cache"))
    }
}
