import SonoConvNets
import SonoRegistry
import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoImaging

/// Benchmarks of the pipeline around the engine, on real images.
enum PipelineBench {
    static func run(_ name: String, runs: Int, dataRoot: String, model: URL?, emit: (String) -> Void) throws {
        let busbra = URL(fileURLWithPath: dataRoot).appendingPathComponent("bus-bra")
        switch name {
        case "data":
            // decode + resize + augment of 256x256 samples on all cores
            let samples = try Dataset.read(busbra).samples
            let r = try benchmarkLoader(samples: samples, size: 256, maxImages: 512)
            emit(String(format: "WORKLOAD data images_per_s=%.1f images=%d seconds=%.2f size=256 cores=%d",
                        r.imagesPerSecond, r.images, r.seconds, r.cores))
            // A 128x128 U-Net training step (batch 8) must not wait for its batch: compare the rates.
            let r128 = try benchmarkLoader(samples: samples, size: 128, maxImages: 512)
            emit(String(format: "WORKLOAD data-128 images_per_s=%.1f images=%d seconds=%.2f size=128 cores=%d",
                        r128.imagesPerSecond, r128.images, r128.seconds, r128.cores))
        case "train-epoch":
            // The default recipe's step on real batches, times the recipe's steps per epoch (its training
            // images, BUSI repeats included, over the batch size).
            var config = try TrainConfig.load(URL(fileURLWithPath: "recipes/default.json"))
            for i in config.data.indices where config.data[i].path.hasPrefix("../shared/data") {
                config.data[i].path = dataRoot + config.data[i].path.dropFirst("../shared/data".count)
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-bench-\(getpid())")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let steps = try TrainingData.prepare(config, runFolder: scratch).train.count / config.batchSize
            let batches = try realBatches(config, busbra)
            var rng = RandomGenerator(seed: 0)
            let model = SegmentationModel(config, rng: &rng)
            let optimizer = config.optimizer.makeOptimizer()
            var i = 0
            let times = Bench.timed(warmup: 2, runs: runs * 2) {
                _ = model.trainStep(batches[i % batches.count], optimizer: optimizer, learningRate: 1e-3, discriminatorRate: 1e-4)
                i += 1
            }
            let median = times.sorted()[times.count / 2]
            emit(Bench.Result(name: "train-step-default", times: times,
                              extra: String(format: "epoch_s=%.1f steps=%d (recipes/default.json)", median * Double(steps) / 1000, steps)).line)
        case "train-step-li":
            // Li et al. Stage IV with discriminators (default recipe's U-Net, batch 8, 128x128) beside the
            // plain step: what deep supervision and the four discriminators cost.
            var config = try TrainConfig.load(URL(fileURLWithPath: "recipes/default.json"))
            let batch = try realBatches(config, busbra)[0]
            var rng = RandomGenerator(seed: 0)
            for (name, stages) in [("train-step-plain", 0), ("train-step-li", 4)] {
                config.deepSupervision.stages = stages
                config.deepSupervision.adversarial = stages > 0
                let model = SegmentationModel(config, rng: &rng)
                let optimizer = config.optimizer.makeOptimizer()
                emit(Bench.timedWithFLOPs(name, warmup: 2, runs: runs) {
                    _ = model.trainStep(batch, optimizer: optimizer, learningRate: 1e-3, discriminatorRate: 1e-4)
                }.line)
            }
        case "segment":
            // End-to-end latency of `sonoseg segment` for one 256x256 image: decode, preprocess, forward, resize
            // back, post-process, three PNG writes. An ensemble costs one forward pass per member.
            let predictor = try loadSegmenter(model ?? DefaultModel.locate())
            let image = try Dataset.read(busbra).samples[0].imageURL
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-bench-\(getpid())")
            defer { try? FileManager.default.removeItem(at: out) }
            // a fresh folder per run: `segment` refuses a folder that holds an earlier run's results
            var run = 0
            let times = Bench.timed(warmup: 2, runs: runs * 2) {
                run += 1
                _ = try? segment([image], model: predictor, options: SegmentOptions(), out: out.appendingPathComponent("\(run)"), log: { _ in })
            }
            emit(Bench.Result(name: "segment", times: times, extra: "image=\(image.lastPathComponent) model=\(predictor.url.path)").line)
        default:
            throw BenchError.unknownWorkload(name, known: Bench.pipelineWorkloads)
        }
    }

    /// The first 64 BUS-BRA images as training batches of `config`.
    static func realBatches(_ config: TrainConfig, _ busbra: URL) throws -> [Batch] {
        let samples = Array(try Dataset.read(busbra).samples.prefix(64))
        let loader = try BatchLoader(samples: samples, preprocess: config.preprocess, augmentation: config.augmentation,
                                     config: LoaderConfig(batchSize: config.batchSize, seed: 0))
        var batches: [Batch] = []
        let stream = loader.epoch(0)
        while let b = try stream.next() { batches.append(b) }
        return batches
    }
}
