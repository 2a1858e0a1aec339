import SonoConvNets
import SonoRegistry
import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoImaging
import SonoModels
import SonoNN
import SonoTensor

/// `sonoseg bench kernels`: one step of every hot path at the shapes the shipped models and recipes use, then the
/// oneDNN implementation behind each primitive those steps created. A `ref:` implementation is oneDNN's reference
/// loop, tens to hundreds of times slower than its JIT kernels; on any ISA none may appear. Run it under
/// `ONEDNN_MAX_CPU_ISA=AVX2` (or `SSE41`) to see what a CPU without AVX-512 would run.
enum KernelCheck {
    /// The paths checked, each run once (after which its primitives are cached and listed).
    static let paths: [(String, () throws -> Void)] = [
        ("unet-train", unetStep(stages: 0)),            // default recipe: U-Net 32/4, batch 8 at 128², BCE + Dice
        ("li-train", unetStep(stages: 4)),              // Li et al.: deep supervision + four discriminators
        ("unet-infer", unetInference),                  // the bundled model as `segment` runs it (fused, constant weights)
        ("resnet50-train", resnet50Step),               // ResNet-50 classifier step, batch 2 at 224²
        ("mlp-train", { mlpStep(latentOnly: false) }),  // implicit network: auto-decoder step
        ("mlp-latent", { mlpStep(latentOnly: true) }),  // implicit inference: latent-only step
    ]

    static func run(emit: (String) -> Void) throws {
        Engine.retainFreedMemory()
        for (name, body) in paths {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            emit(String(format: "PATH %@ %.0f ms", name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6))
        }
        let primitives = Engine.primitivesInUse()
        for p in primitives { emit("KERNEL \(p.implementation) \(p.operation)") }
        let reference = primitives.filter { $0.implementation.hasPrefix("ref") }.count
        emit("WORKLOAD kernels isa=\(Engine.isa) activations=\(Engine.activationLayout) " +
             "elementwise=\(Engine.elementwiseVariant) primitives=\(primitives.count) reference=\(reference)")
    }

    static func unetStep(stages: Int) -> () throws -> Void {
        {
            var config = TrainConfig()
            config.deepSupervision.stages = stages
            config.deepSupervision.adversarial = stages > 0
            var rng = RandomGenerator(seed: 0)
            let model = SegmentationModel(config, rng: &rng)
            _ = model.trainStep(syntheticBatch(count: 8, size: 128, rng: &rng), optimizer: config.optimizer.makeOptimizer(),
                                learningRate: 1e-3, discriminatorRate: 1e-4)
        }
    }

    /// The bundled model on a 300x220 image (letterboxed to its input size), or a U-Net of the default
    /// recipe's shape, fused, when no bundled model is found.
    static func unetInference() throws {
        let image = GrayImage(width: 300, height: 220, pixels: (0..<(300 * 220)).map { Float($0 % 97) / 97 })
        if let url = try? DefaultModel.locate() {
            _ = try loadSegmenter(url).predict(image: image, flipTTA: true)
            return
        }
        var rng = RandomGenerator(seed: 0)
        let net = UNet(UNetConfig(), rng: &rng)
        net.setTraining(false)
        net.fuseForInference()
        _ = GradMode.inference { net(Tensor.normal([1, 1, 128, 128], rng: &rng)) }
    }

    static func resnet50Step() {
        var rng = RandomGenerator(seed: 0)
        let net = ResNet(ResNetConfig(depth: .resnet50, inputChannels: 1, classes: 2), rng: &rng)
        let params = net.namedParameters()
        let opt = SGD(momentum: 0.9)
        opt.zeroGrad(params)
        crossEntropyLoss(net(Tensor.normal([2, 1, 224, 224], rng: &rng)), targets: [0, 1]).backward()
        opt.update(params, learningRate: 1e-2)
    }

    static func mlpStep(latentOnly: Bool) {
        var rng = RandomGenerator(seed: 0)
        let net = CoordinateMLP(CoordinateMLPConfig(), rng: &rng)
        net.setFrozen(latentOnly)
        let latent = Tensor.zeros([1, 128], requiresGrad: true)
        let (coords, image, mask) = Bench.mlpInputs(&rng)
        let params = (latentOnly ? [] : net.namedParameters()) + [("latent", latent)]
        let opt = Adam()
        opt.zeroGrad(params)
        let (pi, pm) = net(coords, latent: latent)
        let loss = binaryCrossEntropyWithLogits(pi, image) + (latentOnly ? Tensor(0) : binaryCrossEntropyWithLogits(pm, mask))
        loss.backward()
        opt.update(params, learningRate: 1e-3)
    }

    /// Ellipses on noise, as a loader would deliver them.
    static func syntheticBatch(count: Int, size: Int, rng: inout RandomGenerator) -> Batch {
        var images: [Float] = [], masks: [Float] = []
        for _ in 0..<count {
            let (cx, cy, r) = (Float(size) * (0.3 + 0.4 * rng.uniform()), Float(size) * (0.3 + 0.4 * rng.uniform()), Float(size) * 0.2)
            for y in 0..<size { for x in 0..<size {
                let inside = (Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy) < r * r
                masks.append(inside ? 1 : 0)
                images.append((inside ? -1 : 0.5) + 0.3 * (rng.uniform() - 0.5))
            } }
        }
        return Batch(count: count, height: size, width: size, images: images, masks: masks,
                     labels: [Int](repeating: -1, count: count), ids: (0..<count).map { "synthetic-\($0)" },
                     geometries: [LetterboxGeometry](repeating: LetterboxGeometry(sourceWidth: size, sourceHeight: size, targetWidth: size, targetHeight: size), count: count))
    }
}
