import Foundation
import SonoBase
import SonoImaging

/// What changes between hospitals' machines rather than between lesions: the depth gain a sonographer sets,
/// measurement marks burnt into the frame, and block compression. Image only; the mask is untouched.
extension Augmenter {
    public func scanner(_ image: inout GrayImage, rng: inout RandomGenerator) {
        let c = config
        guard c.scannerAppearance else { return }
        let gain = rng.chance(c.gainCurveProbability)
        let knots = (0..<4).map { _ in rng.uniform(-c.maxLogGain, c.maxLogGain) }
        let marks = rng.chance(c.marksProbability)
        var markRNG = RandomGenerator(seed: rng.next())
        let compress = rng.chance(c.compressionProbability), step = Float(c.compressionStepRange.sample(&rng))
        if gain { applyGainCurve(&image, logGains: knots) }
        if marks { Self.drawMarks(&image, rng: &markRNG) }
        if compress { image = Self.blockQuantised(image, step: step) }
        for i in image.pixels.indices { image.pixels[i] = min(1, max(0, image.pixels[i])) }
    }

    /// Multiplies each row by exp of the log-gain interpolated linearly between knots spread evenly over depth.
    func applyGainCurve(_ image: inout GrayImage, logGains: [Double]) {
        let last = Double(logGains.count - 1)
        for y in 0..<image.height {
            let t = image.height > 1 ? Double(y) / Double(image.height - 1) * last : 0
            let k = min(Int(t), logGains.count - 2), f = t - Double(k)
            let g = Float(exp(logGains[k] * (1 - f) + logGains[k + 1] * f))
            for x in 0..<image.width { image.pixels[y * image.width + x] *= g }
        }
    }

    /// One to four bright caliper crosses, and with two or more a dotted line between the first two.
    static func drawMarks(_ image: inout GrayImage, rng: inout RandomGenerator) {
        let w = image.width, h = image.height
        let arm = max(1, Int(Double(min(w, h)) * rng.uniform(0.015, 0.035)))
        let value = Float(rng.uniform(0.85, 1))
        func set(_ x: Int, _ y: Int) { if x >= 0, y >= 0, x < w, y < h { image.pixels[y * w + x] = value } }
        let points = (0..<(1 + rng.nextInt(below: 4))).map { _ in (rng.nextInt(below: max(1, w)), rng.nextInt(below: max(1, h))) }
        for (x, y) in points { for d in -arm...arm { set(x + d, y); set(x, y + d) } }
        if points.count >= 2 {
            let (a, b) = (points[0], points[1])
            let n = max(abs(b.0 - a.0), abs(b.1 - a.1))
            for i in stride(from: 0, through: n, by: 3) {
                let t = Double(i) / Double(max(1, n))
                set(Int((Double(a.0) + t * Double(b.0 - a.0)).rounded()), Int((Double(a.1) + t * Double(b.1 - a.1)).rounded()))
            }
        }
    }

    /// JPEG's loss without its file format: each 8×8 block's DCT coefficients rounded to multiples of `step`
    /// (the DC term to a quarter of it), blocks at the edge padded by repetition.
    static func blockQuantised(_ image: GrayImage, step: Float) -> GrayImage {
        let w = image.width, h = image.height
        var out = image
        let basis: [[Float]] = (0..<8).map { u in
            (0..<8).map { x in Float((u == 0 ? sqrt(1.0 / 8) : sqrt(2.0 / 8)) * cos(Double(2 * x + 1) * Double(u) * .pi / 16)) }
        }
        var block = [Float](repeating: 0, count: 64), tmp = [Float](repeating: 0, count: 64)
        for by in stride(from: 0, to: h, by: 8) {
            for bx in stride(from: 0, to: w, by: 8) {
                for y in 0..<8 { for x in 0..<8 { block[y * 8 + x] = image.pixels[min(h - 1, by + y) * w + min(w - 1, bx + x)] } }
                // Forward: rows then columns; quantise; inverse: columns then rows (the basis is orthonormal).
                for y in 0..<8 { for u in 0..<8 { var s: Float = 0; for x in 0..<8 { s += basis[u][x] * block[y * 8 + x] }; tmp[y * 8 + u] = s } }
                for u in 0..<8 { for v in 0..<8 { var s: Float = 0; for y in 0..<8 { s += basis[v][y] * tmp[y * 8 + u] }; block[v * 8 + u] = s } }
                for i in 0..<64 {
                    let q = i == 0 ? step / 4 : step * (1 + Float(i / 8 + i % 8) / 4)
                    block[i] = (block[i] / q).rounded() * q
                }
                for u in 0..<8 { for y in 0..<8 { var s: Float = 0; for v in 0..<8 { s += basis[v][y] * block[v * 8 + u] }; tmp[y * 8 + u] = s } }
                for y in 0..<8 where by + y < h {
                    for x in 0..<8 where bx + x < w {
                        var s: Float = 0; for u in 0..<8 { s += basis[u][x] * tmp[y * 8 + u] }
                        out.pixels[(by + y) * w + bx + x] = s
                    }
                }
            }
        }
        return out
    }
}
