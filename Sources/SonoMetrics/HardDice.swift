import Foundation

/// The logit equivalent of a probability threshold (sigmoid is monotonic).
public func logitThreshold(_ p: Float) -> Float {
    p <= 0 ? -.infinity : p >= 1 ? .infinity : Foundation.log(p / (1 - p))
}

/// Dice of the pixels whose score (a probability, or a logit against `logitThreshold`) is above `t` against a
/// 0/1 mask; 1 when both are empty. Validation and the latent fits' Dice curve both count with this.
public func hardDice<Scores: Sequence, Truth: Sequence>(_ scores: Scores, _ truth: Truth, above t: Float) -> Double
where Scores.Element == Float, Truth.Element == Float {
    var inter = 0, pred = 0, lesion = 0
    for (p, m) in zip(scores, truth) {
        let a = p > t, b = m > 0.5
        if a { pred += 1 }
        if b { lesion += 1 }
        if a && b { inter += 1 }
    }
    return pred + lesion == 0 ? 1 : 2 * Double(inter) / Double(pred + lesion)
}
