/// Per-image intensity normalisation applied after augmentation, just before batching.
public struct IntensityNormalization: Codable, Sendable, Equatable {
    public enum Method: String, Codable, Sendable {
        /// Leave values in [0, 1] as decoded.
        case none
        /// (x − mean) / std; per image, or with the dataset's `mean`/`std` (from a fingerprint) when given.
        case zScore
        /// Rescale the image's own [min, max] to [0, 1].
        case minMax
        /// Clip to the image's [lowPercentile, highPercentile] values, then rescale that range to [0, 1];
        /// robust to calliper marks and text burned into the image.
        case percentile
    }

    public var method: Method
    /// Percentiles in percent (0–100) for `.percentile`.
    public var lowPercentile: Double
    public var highPercentile: Double
    /// Fixed statistics for `.zScore`; nil = per image.
    public var mean: Double?
    public var std: Double?

    public init(method: Method = .zScore, lowPercentile: Double = 0.5, highPercentile: Double = 99.5,
                mean: Double? = nil, std: Double? = nil) {
        (self.method, self.lowPercentile, self.highPercentile) = (method, lowPercentile, highPercentile)
        (self.mean, self.std) = (mean, std)
    }

    /// Normalises pixel values in place.
    public func apply(to pixels: inout [Float]) {
        guard !pixels.isEmpty else { return }
        switch method {
        case .none:
            return
        case .zScore:
            var m = mean ?? 0, s = std ?? 0
            if mean == nil || std == nil {
                let n = Double(pixels.count)
                var sum = 0.0, sumSquares = 0.0
                for v in pixels { sum += Double(v); sumSquares += Double(v) * Double(v) }
                m = sum / n
                s = (max(0, sumSquares / n - m * m)).squareRoot()
            }
            // A flat image has no contrast to standardise; avoid dividing by ~0.
            let scale = Float(1 / max(s, 1e-6)), shift = Float(m)
            for i in pixels.indices { pixels[i] = (pixels[i] - shift) * scale }
        case .minMax:
            rescale(&pixels, low: pixels.min()!, high: pixels.max()!)
        case .percentile:
            let bounds = Percentiles.values(of: pixels, at: [lowPercentile, highPercentile])
            rescale(&pixels, low: bounds[0], high: bounds[1])
        }
    }

    public func apply(to image: GrayImage) -> GrayImage {
        var copy = image
        apply(to: &copy.pixels)
        return copy
    }

    private func rescale(_ pixels: inout [Float], low: Float, high: Float) {
        let range = high - low
        guard range > 1e-12 else {
            for i in pixels.indices { pixels[i] = 0 }
            return
        }
        for i in pixels.indices { pixels[i] = (min(high, max(low, pixels[i])) - low) / range }
    }
}

/// Percentiles by linear interpolation between order statistics (NumPy's default method).
public enum Percentiles {
    /// Values at `percents` (each 0–100) of `values`; `values` must not be empty.
    public static func values(of values: [Float], at percents: [Double]) -> [Float] {
        let sorted = values.sorted()
        return percents.map { p in
            let position = max(0, min(100, p)) / 100 * Double(sorted.count - 1)
            let lower = Int(position), upper = min(sorted.count - 1, lower + 1)
            let fraction = Float(position - Double(lower))
            return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
        }
    }
}
