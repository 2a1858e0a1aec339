import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoModels
import SonoNN
import SonoTensor

/// Mean validation Dice after `step` latent steps: one point of the curve stored in a model.
public struct DicePoint: Codable, Sendable, Equatable {
    public var step: Int
    public var dice: Double
}

/// Images to fit: intensities at `width`×`height` (the training resolution), optionally only some pixels
/// visible (inpainting), with the class codes held fixed during the fit.
public struct LatentFitRequest {
    public var width: Int
    public var height: Int
    /// Per image [H·W] in [0, 1].
    public var intensities: [[Float]]
    /// Per image [H·W]: which pixels the fit may look at (nil: all).
    public var visible: [[Bool]]?
    public var classes: ClassIndices

    public init(width: Int, height: Int, intensities: [[Float]], visible: [[Bool]]? = nil, classes: ClassIndices = ClassIndices()) {
        for (i, v) in intensities.enumerated() { precondition(v.count == width * height, "LatentFitRequest: image \(i) has \(v.count) pixels, expected \(width)x\(height)") }
        if let visible { precondition(visible.count == intensities.count, "LatentFitRequest: \(visible.count) visibility maps for \(intensities.count) images") }
        (self.width, self.height, self.intensities, self.visible, self.classes) = (width, height, intensities, visible, classes)
    }
    public var count: Int { intensities.count }
}

/// What a fit found, per image: the latent of the best restart and its reconstruction loss on the visible
/// pixels (the whole grid, noise-free), plus the validation Dice curve when truth was given.
public struct LatentFit {
    /// Per image [latentSize].
    public var latents: [[Float]]
    public var losses: [Double]
    public var curve: [DicePoint]
}

/// Inference by latent optimisation: the network's weights are frozen; each image gets a new code (zeros,
/// N(0, σ²), or the encoder's prediction) that Adam moves to minimise the reconstruction loss + λ_latent · mean(z²) on random pixel
/// subsets. Several images (and restarts) are stacked into one batch; Adam's per-element update keeps them
/// independent.
public struct LatentFitter {
    public let network: ImplicitNetwork
    public var loss: ImplicitLossConfig
    public var settings: ImplicitInferenceConfig
    /// σ of the N(0, σ²) initialisation (restarts beyond the first always use it).
    public var latentStd: Float

    public init(network: ImplicitNetwork, loss: ImplicitLossConfig, settings: ImplicitInferenceConfig, latentStd: Float) {
        (self.network, self.loss, self.settings, self.latentStd) = (network, loss, settings, latentStd)
    }

    /// Fits `request` for `steps` steps. With `truth` (per image [H·W] masks) Dice is measured every
    /// `settings.evaluateEvery` steps (and at 0) into the returned curve.
    public func fit(_ request: LatentFitRequest, steps: Int, truth: [[Float]]? = nil, rng: inout RandomGenerator) -> LatentFit {
        let points = request.count * settings.restarts * (settings.pointsPerStep > 0 ? settings.pointsPerStep : request.width * request.height)
        return withSmallJobThreads(points: points) { fitUnscoped(request, steps: steps, truth: truth, rng: &rng) }
    }

    /// Steps of fewer than this many points (images × restarts × points per step) run on one thread: with
    /// OpenMP's default active wait, two workers on a machine whose other core is busy spend most of each
    /// step spinning at barriers (measured: one 128x128 image, 150 steps × 256 points: 0.5 s on one thread,
    /// 19-24 s on two; `OMP_WAIT_POLICY=passive` also fixes it).
    public static let singleThreadBelow = 32_768

    private func withSmallJobThreads<T>(points: Int, _ body: () -> T) -> T {
        guard points < Self.singleThreadBelow else { return body() }
        return Engine.withThreads(1, body)
    }

    private func fitUnscoped(_ request: LatentFitRequest, steps: Int, truth: [[Float]]?, rng: inout RandomGenerator) -> LatentFit {
        let wasFrozen = !network.first.weight.requiresGrad
        network.setFrozen(true)
        defer { if !wasFrozen { network.setFrozen(false) } }

        let r = settings.restarts, m = request.count, e = m * r, dims = network.config.latentSize
        let entryImage = (0..<e).map { $0 / r }
        let classes = request.classes.expanded(entryImage)
        var initial = [Float](repeating: 0, count: e * dims)
        if settings.initialization == .encoder {
            // restarts beyond the first start from the encoder's code plus noise
            let encoded = encode(request.intensities, width: request.width, height: request.height)
            for k in 0..<e { for j in 0..<dims { initial[k * dims + j] = encoded[entryImage[k] * dims + j] } }
        }
        for k in 0..<e where settings.initialization == .normal || k % r > 0 {
            for j in 0..<dims { initial[k * dims + j] += latentStd * rng.normal() }
        }
        let z = Tensor(initial, shape: [e, dims], requiresGrad: true)
        let adam = Adam()
        let n = request.width * request.height
        // visible pixel lists (nil: all)
        let visibleIndices: [[Int]]? = request.visible.map { maps in maps.map { v in v.indices.filter { v[$0] } } }
        let fullGrid = CoordinateGrid.grid(width: request.width, height: request.height)
        var curve: [DicePoint] = []

        // Dice is measured on every `evaluateStride`-th pixel in x and y (NISF trained on every second pixel):
        // one readout of all entries serves both the restart choice and the masks.
        let stride = max(1, settings.evaluateStride)
        let sub = (0..<request.height).filter { $0 % stride == 0 }.flatMap { y in
            (0..<request.width).filter { $0 % stride == 0 }.map { y * request.width + $0 }
        }
        let subGrid = CoordinateGrid.points(sub, width: request.width, height: request.height)
        func measure(_ step: Int) {
            guard let truth else { return }
            let values = z.scalars
            let entries = (0..<e).map { Array(values[($0 * dims)..<(($0 + 1) * dims)]) }
            let out = readout(latents: entries, classes: classes, coords: subGrid, intensityLogits: true)
            var dice: [Double] = []
            for image in 0..<m {
                let range = (image * r)..<((image + 1) * r)
                let best = r == 1 ? range.lowerBound : range.min { a, b in
                    reconstructionLoss(logits: out.intensity[a], target: sub.map { request.intensities[image][$0] }, pixels: nil)
                        < reconstructionLoss(logits: out.intensity[b], target: sub.map { request.intensities[image][$0] }, pixels: nil)
                }!
                dice.append(hardDice(out.mask[best], sub.map { truth[image][$0] }, above: settings.threshold))
            }
            curve.append(DicePoint(step: step, dice: dice.reduce(0, +) / Double(max(dice.count, 1))))
        }

        measure(0)
        for step in 1...max(steps, 1) where steps > 0 {
            // points: random visible pixels, or the whole grid
            var coords = [Float](), targets = [Float]()
            let p: Int
            if settings.pointsPerStep == 0 && visibleIndices == nil {
                p = n
                for k in 0..<e { coords += fullGrid; targets += request.intensities[entryImage[k]] }
            } else {
                p = settings.pointsPerStep > 0 ? settings.pointsPerStep : (visibleIndices?.map(\.count).min() ?? n)
                for k in 0..<e {
                    let image = entryImage[k], pool = visibleIndices?[image]
                    let picks = (0..<p).map { _ -> Int in
                        if let pool, !pool.isEmpty { return pool[Int(rng.next() % UInt64(pool.count))] }
                        return Int(rng.next() % UInt64(n))
                    }
                    coords += CoordinateGrid.points(picks, width: request.width, height: request.height)
                    for i in picks { targets.append(request.intensities[image][i]) }
                }
            }
            let (intensity, _) = network(Tensor(coords, shape: [e * p, 2]), latents: z, classes: classes)
            let recon = loss.reconstructionLoss(intensity, Tensor(targets, shape: [e * p, 1]))
            // per-image mean losses summed over images: each code's gradient is independent of the batch size
            let objective = (Float(e) * loss.reconstructionWeight) * recon + (loss.latentPenalty / Float(dims)) * (z * z).sum()
            z.grad = nil
            objective.backward()
            adam.update([("z", z)], learningRate: settings.learningRate)
            if step % settings.evaluateEvery == 0 || step == steps { if curve.last?.step != step { measure(step) } }
        }
        // frames of 64² and more: ranked on the stride grid (a quarter of the readout); smaller ones are cheap whole
        let ranked = n >= 4096 ? (sub, subGrid) : (Array(0..<n), fullGrid)
        let (best, losses) = bestRestarts(z, request: request, classes: classes, visible: request.visible, pixels: ranked.0, grid: ranked.1)
        let values = z.scalars
        return LatentFit(latents: best.map { Array(values[($0 * dims)..<(($0 + 1) * dims)]) }, losses: losses, curve: curve)
    }

    /// Per image: the entry (restart) with the lowest reconstruction loss on its visible pixels among `pixels`
    /// (whose coordinates are `grid`), and that loss.
    private func bestRestarts(_ z: Tensor, request: LatentFitRequest, classes: ClassIndices, visible: [[Bool]]?,
                              pixels: [Int], grid: [Float]) -> (entries: [Int], losses: [Double]) {
        let r = settings.restarts, dims = network.config.latentSize, values = z.scalars
        let entries = (0..<(request.count * r)).map { Array(values[($0 * dims)..<(($0 + 1) * dims)]) }
        let intensity = readout(latents: entries, classes: classes, coords: grid, intensityLogits: true).intensity
        var best: [Int] = [], losses: [Double] = []
        for image in 0..<request.count {
            let target = pixels.map { request.intensities[image][$0] }
            let seen = visible.map { v in pixels.indices.filter { v[image][pixels[$0]] } }
            var pick = image * r, lowest = Double.infinity
            for k in (image * r)..<((image + 1) * r) {
                let l = reconstructionLoss(logits: intensity[k], target: target, pixels: seen)
                if l < lowest { (pick, lowest) = (k, l) }
            }
            best.append(pick); losses.append(lowest)
        }
        return (best, losses)
    }

    /// The encoder's codes of `images` (each [H·W]), flattened [images·latentSize]; batches of 32, no gradients.
    public func encode(_ images: [[Float]], width: Int, height: Int) -> [Float] {
        var out: [Float] = []
        noGrad {
            var start = 0
            while start < images.count {
                let chunk = start..<min(start + 32, images.count)
                let x = Tensor(chunk.flatMap { images[$0] }, shape: [chunk.count, 1, height, width])
                out += network.encode(x).scalars
                start = chunk.upperBound
            }
        }
        return out
    }

    /// Pathology probabilities of the code head for each code (nil without a head).
    public func codeProbabilities(_ latents: [[Float]]) -> [[Float]]? {
        guard network.codeHead != nil, !latents.isEmpty else { return nil }
        let dims = network.config.latentSize
        var out: [[Float]] = []
        noGrad {
            let p = network.classifyCode(Tensor(latents.flatMap { $0 }, shape: [latents.count, dims])).softmax(axis: 1).scalars
            let k = network.config.codeHeadClasses.count
            out = (0..<latents.count).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }
        }
        return out
    }

    /// Mean reconstruction loss of one image's logits over `pixels` (nil: all), as the fit's objective.
    func reconstructionLoss(logits: [Float], target: [Float], pixels: [Int]?) -> Double {
        var sum = 0.0, count = 0
        func add(_ i: Int) {
            let l = Double(logits[i]), t = Double(target[i])
            switch loss.reconstruction {
            case .bce: sum += max(l, 0) - l * t + Foundation.log(1 + Foundation.exp(-abs(l)))
            case .mse: let p = 1 / (1 + Foundation.exp(-l)); sum += (p - t) * (p - t)
            }
            count += 1
        }
        if let pixels { pixels.forEach(add) } else { logits.indices.forEach(add) }
        return count > 0 ? sum / Double(count) : .infinity
    }

    /// The network at `coords` ([P, 2] flattened, any values: beyond ±1 reads outside the training plane) for
    /// each latent: per image [P] intensities (σ, or logits with `intensityLogits`) and mask probabilities.
    /// Runs without gradients, in chunks of about 64k points.
    public func readout(latents: [[Float]], classes: ClassIndices, coords: [Float], intensityLogits: Bool = false)
        -> (intensity: [[Float]], mask: [[Float]]) {
        let p = coords.count / 2, dims = network.config.latentSize
        let limit = 1 << 16
        var intensity: [[Float]] = [], mask: [[Float]] = []
        noGrad {
            if p > limit {
                // a large grid (a high-resolution readout): one image at a time, its points in slices
                for k in latents.indices {
                    var iv: [Float] = [], mv: [Float] = []
                    var start = 0
                    while start < p {
                        // 16k-point slices: 8 MB activations, reused by the allocator rather than mapped afresh
                        let end = min(start + (1 << 14), p)
                        let x = Tensor(Array(coords[(2 * start)..<(2 * end)]), shape: [end - start, 2])
                        let (i, m) = network(x, latents: Tensor(latents[k], shape: [1, dims]), classes: classes.subset([k]))
                        iv += (intensityLogits ? i : i.sigmoid()).scalars; mv += m.sigmoid().scalars
                        start = end
                    }
                    intensity.append(iv); mask.append(mv)
                }
                return
            }
            let chunk = max(1, limit / max(p, 1))
            var start = 0
            while start < latents.count {
                let range = start..<min(start + chunk, latents.count)
                let z = Tensor(range.flatMap { latents[$0] }, shape: [range.count, dims])
                let x = Tensor(Array(repeating: coords, count: range.count).flatMap { $0 }, shape: [range.count * p, 2])
                let (i, m) = network(x, latents: z, classes: classes.subset(Array(range)))
                let iv = (intensityLogits ? i : i.sigmoid()).scalars, mv = m.sigmoid().scalars
                for k in 0..<range.count {
                    intensity.append(Array(iv[(k * p)..<((k + 1) * p)]))
                    mask.append(Array(mv[(k * p)..<((k + 1) * p)]))
                }
                start = range.upperBound
            }
        }
        return (intensity, mask)
    }
}

extension ClassIndices {
    /// The indices of the images listed in `images` (repeats allowed).
    public func expanded(_ images: [Int]) -> ClassIndices {
        ClassIndices(birads: birads.map { b in images.map { b[$0] } }, pathology: pathology.map { p in images.map { p[$0] } })
    }
    func subset(_ images: [Int]) -> ClassIndices { expanded(images) }
}

