import Foundation

extension GrayImage {
    /// Separable Gaussian blur with standard deviation `sigma` pixels (kernel radius ⌈3σ⌉, edges clamped).
    public func gaussianBlurred(sigma: Float) -> GrayImage {
        guard sigma > 0.01, width > 0, height > 0 else { return self }
        let radius = Int((3 * sigma).rounded(.up))
        var kernel = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let w = width, h = height
        var rows = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var sum: Float = 0
                for k in -radius...radius { sum += pixels[y * w + min(w - 1, max(0, x + k))] * kernel[k + radius] }
                rows[y * w + x] = sum
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for k in -radius...radius {
                let r = min(h - 1, max(0, y + k)) * w, weight = kernel[k + radius]
                for x in 0..<w { out[y * w + x] += rows[r + x] * weight }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }
}
