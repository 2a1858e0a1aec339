import SonoBase
import SonoModels
import SonoNN
import SonoTensor

/// Points of B images stacked image-major for one batched forward pass.
public struct PointBatch {
    /// [B·P, 2]
    public var coords: Tensor
    /// [B·P, 1] intensities in [0, 1]
    public var intensities: Tensor
    /// [B·P, 1] mask values 0/1
    public var masks: Tensor
    public var images: Int
    public var pointsPerImage: Int

    /// `points` random pixels (uniform, with replacement) of each of `images` from `bank`, or every pixel when
    /// `points` is 0; coordinates jittered by N(0, noise²). Where `flips` says, the image is read mirrored
    /// left-right (augmentation, matching `ImageBank.batch`).
    public static func sample(_ bank: ImageBank, images: [Int], points: Int, noise: Float = 0, flips: [Bool]? = nil,
                              rng: inout RandomGenerator) -> PointBatch {
        let n = bank.width * bank.height
        let p = points > 0 ? points : n
        var coords = [Float](), values = [Float](), masks = [Float]()
        coords.reserveCapacity(images.count * p * 2); values.reserveCapacity(images.count * p); masks.reserveCapacity(images.count * p)
        let grid = points > 0 ? [] : CoordinateGrid.grid(width: bank.width, height: bank.height)
        for (k, image) in images.enumerated() {
            let intensity = bank.intensities[image], mask = bank.masks[image]
            let flipped = flips?[k] == true
            func source(_ i: Int) -> Int { bank.sourceIndex(i, flipped: flipped) }
            if points > 0 {
                let picks = (0..<p).map { _ in Int(rng.next() % UInt64(n)) }
                coords += CoordinateGrid.points(picks, width: bank.width, height: bank.height)
                for i in picks { values.append(intensity[source(i)]); masks.append(mask[source(i)]) }
            } else {
                coords += grid
                for i in 0..<n { values.append(intensity[source(i)]); masks.append(mask[source(i)]) }
            }
        }
        if noise > 0 { for i in coords.indices { coords[i] += noise * rng.normal() } }
        return PointBatch(coords: Tensor(coords, shape: [images.count * p, 2]),
                          intensities: Tensor(values, shape: [images.count * p, 1]),
                          masks: Tensor(masks, shape: [images.count * p, 1]), images: images.count, pointsPerImage: p)
    }
}

/// The parts of the auto-decoder objective (values for logs; `total` for backward).
public struct ImplicitLossTerms {
    public var total: Tensor
    public var reconstruction: Float
    public var segmentation: Float
    public var latent: Float
    public var weight: Float
    /// Cross-entropy of the code head on the batch's labelled images (0 without a head).
    public var classification: Float = 0
}

extension ImplicitLossConfig {
    /// Reconstruction loss (mean over points) of intensity logits [N, 1] against targets [N, 1].
    public func reconstructionLoss(_ logits: Tensor, _ target: Tensor) -> Tensor {
        switch reconstruction {
        case .bce: return bceWithLogitsLoss(logits, target)
        case .mse: return mseLoss(logits.sigmoid(), target)
        }
    }

    /// recon weight · recon + seg weight · (BCE + dice weight · Dice per image) + λ_latent · mean(z²) + λ_w · Σ w²
    /// + classification weight · cross-entropy of the code head on the images with a label in `headLabels`.
    /// latents [B, latentSize] are the images' codes.
    public func trainingLoss(network: ImplicitNetwork, batch: PointBatch, latents: Tensor, classes: ClassIndices,
                             headLabels: [Int?] = []) -> ImplicitLossTerms {
        let (intensity, mask) = network(batch.coords, latents: latents, classes: classes)
        let recon = reconstructionLoss(intensity, batch.intensities)
        let shape = [batch.images, batch.pointsPerImage]
        let seg = bceWithLogitsLoss(mask, batch.masks) + diceWeight * softDiceLoss(mask.reshaped(shape), batch.masks.reshaped(shape))
        let latent = (latents * latents).mean()
        var total = reconstructionWeight * recon + segmentationWeight * seg + latentPenalty * latent
        var weight: Float = 0
        if weightPenalty > 0 {
            let w = network.trunkWeights.map { ($0 * $0).sum() }.reduce(Tensor(0)) { $0 + $1 }
            weight = w.item
            total = total + weightPenalty * w
        }
        var classification: Float = 0
        let labelled = headLabels.indices.filter { headLabels[$0] != nil }
        if network.codeHead != nil && classificationWeight > 0 && !labelled.isEmpty {
            // only the labelled images' rows: a lesion-free image has no pathology to predict
            let logits = Tensor.embedding(table: network.classifyCode(latents), indices: labelled)
            let ce = crossEntropyLoss(logits, targets: labelled.map { headLabels[$0]! })
            classification = ce.item
            total = total + classificationWeight * ce
        }
        return ImplicitLossTerms(total: total, reconstruction: recon.item, segmentation: seg.item, latent: latent.item, weight: weight,
                                 classification: classification)
    }
}
