import SonoConvNets
import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoModels
import SonoNN
import SonoTensor

/// The workloads of `shared/bench/torch_reference.py`, with the same shapes, warm-up and run counts, printing
/// the same `WORKLOAD name median_ms=… min_ms=… max_ms=… peak_rss_mb=…` lines.
public enum Bench {
    public static let workloads = ["unet-train", "unet-infer", "mlp-train", "mlp-latent", "resnet50-train"]
    /// Workloads of SonoSeg's own (no PyTorch counterpart): the data loader, an epoch of the default recipe
    /// and end-to-end segmentation latency. They read `../shared/data` (or `dataRoot`).
    public static let pipelineWorkloads = ["data", "train-epoch", "train-step-li", "segment"]
    /// Throughput counterparts of the reference workloads, timed against scripts/ort_bench.py (PyTorch and ONNX
    /// Runtime on the same network): `unet-infer-b8` is `unet-infer` at batch 8.
    public static let throughputWorkloads = ["unet-infer-b8"]
    /// Not timed: one step of every hot path, then the oneDNN implementation of each primitive (`KernelCheck`).
    public static let checks = ["kernels"]

    public struct Result: Sendable {
        public var name: String
        public var times: [Double]
        public var extra: String = ""
        public var median: Double { times.sorted()[times.count / 2] }
        public var line: String {
            let rss = Double(peakResidentBytes()) / 1_048_576
            return String(format: "WORKLOAD %@ median_ms=%.2f min_ms=%.2f max_ms=%.2f peak_rss_mb=%.0f", name, median,
                          times.min()!, times.max()!, rss) + (extra.isEmpty ? "" : " " + extra)
        }
    }

    /// Runs `name` and returns its result lines.
    /// `model`: the model `segment` times (default: the bundled one).
    public static func run(_ name: String, runs: Int = 7, dataRoot: String = "../shared/data", model: URL? = nil,
                           emit: (String) -> Void) throws {
        switch name {
        case "data", "train-epoch", "train-step-li", "segment":
            try PipelineBench.run(name, runs: runs, dataRoot: dataRoot, model: model, emit: emit)
        case "kernels": try KernelCheck.run(emit: emit)
        case "unet-train": unetTrain(runs: runs, emit: emit)
        case "unet-infer": emit(unetInfer(runs: runs).line)
        case "unet-infer-b8": emit(unetInfer(runs: runs, batch: 8).line)
        case "mlp-train": emit(mlpTrain(runs: runs).line)
        case "mlp-latent": emit(mlpLatent(runs: runs).line)
        case "resnet50-train": emit(resnet50Train(runs: runs).line)
        default: throw BenchError.unknownWorkload(name, known: workloads + throughputWorkloads + pipelineWorkloads + checks)
        }
    }

    /// `timed`, plus the convolutions' nominal GFLOP/s over the whole step (`conv_gflops=`): convolution
    /// FLOPs of one run (as a direct convolution would do them) divided by the median time. Winograd does
    /// fewer multiplications, so this can exceed the machine's direct-convolution peak.
    static func timedWithFLOPs(_ name: String, warmup: Int, runs: Int, _ body: () -> Void) -> Result {
        for _ in 0..<warmup { body() }
        let before = Engine.convolutionFLOPs
        var result = Result(name: name, times: timed(warmup: 0, runs: runs, body))
        let perRun = Double(Engine.convolutionFLOPs - before) / Double(runs)
        result.extra = String(format: "conv_gflop=%.1f conv_gflops=%.0f", perRun / 1e9, perRun / (result.median * 1e6))
        return result
    }

    static func timed(warmup: Int, runs: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<runs).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
    }

    /// U-Net (base 32, depth 4), batch 8×1×128×128, BCE with logits, backward, one Adam step. SonoSeg keeps
    /// activations channel-blocked, which is its equivalent of PyTorch's channels-last run.
    static func unetTrain(runs: Int, emit: (String) -> Void) {
        Engine.retainFreedMemory()
        var rng = RandomGenerator(seed: 0)
        let net = UNet(UNetConfig(), rng: &rng)
        let x = Tensor.normal([8, 1, 128, 128], rng: &rng)
        let target = Tensor((0..<(8 * 128 * 128)).map { _ in rng.uniform() > 0.5 ? 1 : 0 }, shape: [8, 1, 128, 128])
        let opt = Adam()
        let params = net.namedParameters()
        let result = timedWithFLOPs("unet-train", warmup: 2, runs: runs) {
            opt.zeroGrad(params)
            let loss = binaryCrossEntropyWithLogits(net(x), target)
            loss.backward()
            opt.update(params, learningRate: 1e-3)
        }
        emit(result.line)
    }

    /// Batch 1 (`unet-infer`, latency) or more (`unet-infer-b8`, throughput) at 256 × 256.
    static func unetInfer(runs: Int, batch: Int = 1) -> Result {
        var rng = RandomGenerator(seed: 0)
        let net = UNet(UNetConfig(), rng: &rng)
        net.setTraining(false)
        net.fuseForInference()
        let x = Tensor.normal([batch, 1, 256, 256], rng: &rng)
        // As `sonoseg segment` serves a loaded model: batch norm folded into the convolutions, weights
        // constant, their reordered copies kept.
        return timedWithFLOPs(batch == 1 ? "unet-infer" : "unet-infer-b\(batch)", warmup: 3, runs: batch == 1 ? runs * 3 : runs) { _ = GradMode.inference { net(x) } }
    }

    static func mlpInputs(_ rng: inout RandomGenerator) -> (Tensor, Tensor, Tensor) {
        let coords = Tensor.uniform([16384, 2], lo: -1, hi: 1, rng: &rng)
        let image = Tensor.uniform([16384, 1], lo: 0, hi: 1, rng: &rng)
        let mask = Tensor((0..<16384).map { _ in rng.uniform() > 0.7 ? 1 : 0 }, shape: [16384, 1])
        return (coords, image, mask)
    }

    static func mlpTrain(runs: Int) -> Result {
        Engine.retainFreedMemory()
        var rng = RandomGenerator(seed: 0)
        let net = CoordinateMLP(CoordinateMLPConfig(), rng: &rng)
        let latent = Tensor.zeros([1, 128], requiresGrad: true)
        let (coords, image, mask) = mlpInputs(&rng)
        let opt = Adam()
        let params = net.namedParameters() + [("latent", latent)]
        return Result(name: "mlp-train", times: timed(warmup: 3, runs: runs * 2) {
            opt.zeroGrad(params)
            let (pi, pm) = net(coords, latent: latent)
            let loss = binaryCrossEntropyWithLogits(pi, image) + binaryCrossEntropyWithLogits(pm, mask)
            loss.backward()
            opt.update(params, learningRate: 1e-4)
        })
    }

    static func mlpLatent(runs: Int) -> Result {
        Engine.retainFreedMemory()
        var rng = RandomGenerator(seed: 0)
        let net = CoordinateMLP(CoordinateMLPConfig(), rng: &rng)
        net.setFrozen(true)
        let latent = Tensor.zeros([1, 128], requiresGrad: true)
        let (coords, image, _) = mlpInputs(&rng)
        let opt = Adam()
        let params = [("latent", latent)]
        return Result(name: "mlp-latent", times: timed(warmup: 3, runs: runs * 2) {
            opt.zeroGrad(params)
            let (pi, _) = net(coords, latent: latent)
            binaryCrossEntropyWithLogits(pi, image).backward()
            opt.update(params, learningRate: 1e-2)
        })
    }
}

extension Bench {
    /// ResNet-50 (bottleneck 3-4-6-3, BN, 1 input channel, 3 classes), batch 8×1×224×224, cross-entropy,
    /// backward, one SGD step with momentum 0.9 (lr 1e-2). Runs with the allocator policy of classification
    /// training (`MemoryPolicy.retainFreedMemory`), as `sonoseg classify train` does.
    static func resnet50Train(runs: Int) -> Result {
        Engine.retainFreedMemory()
        var rng = RandomGenerator(seed: 0)
        let net = ResNet(ResNetConfig(depth: .resnet50, inputChannels: 1, classes: 3), rng: &rng)
        let x = Tensor.normal([8, 1, 224, 224], rng: &rng)
        let labels = (0..<8).map { _ in Int(rng.uniform() * 3) % 3 }
        let opt = SGD(momentum: 0.9)
        let params = net.namedParameters()
        return timedWithFLOPs("resnet50-train", warmup: 2, runs: runs) {
            opt.zeroGrad(params)
            crossEntropyLoss(net(x), targets: labels).backward()
            opt.update(params, learningRate: 1e-2)
        }
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case unknownWorkload(String, known: [String])
    public var description: String {
        switch self {
        case let .unknownWorkload(w, known): return "unknown workload '\(w)'; known: \(known.joined(separator: ", "))"
        }
    }
}

/// Peak resident set size of this process, in bytes.
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
