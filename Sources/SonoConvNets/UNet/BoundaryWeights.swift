import Foundation
import SonoMetrics

/// The per-pixel BCE weights of the loss's boundary term: 1 + weight · exp(−d² / 2σ²), d the distance from the pixel
/// to the nearest pixel of the other class (so both sides of the outline count). A mask without lesion, or without
/// background, has no outline and weighs 1 everywhere. Constants of the step: no gradient flows through them.
public enum BoundaryWeights {
    /// `masks`: `count` row-major planes of width × height, values ≥ 0.5 lesion.
    public static func map(_ masks: [Float], count: Int, width: Int, height: Int, weight: Float, sigma: Float) -> [Float] {
        let plane = width * height
        var out = [Float](repeating: 1, count: masks.count)
        for i in 0..<count {
            let lesion = masks[(i * plane)..<((i + 1) * plane)].map { $0 >= 0.5 }
            guard lesion.contains(true), lesion.contains(false) else { continue }
            let toLesion = EuclideanDistanceTransform.squaredDistances(features: lesion, width: width, height: height)
            let toBackground = EuclideanDistanceTransform.squaredDistances(features: lesion.map { !$0 }, width: width, height: height)
            let scale = -1 / (2 * Double(sigma) * Double(sigma))
            for p in 0..<plane {
                let d2 = lesion[p] ? toBackground[p] : toLesion[p]
                out[i * plane + p] = 1 + weight * Float(exp(d2 * scale))
            }
        }
        return out
    }
}
