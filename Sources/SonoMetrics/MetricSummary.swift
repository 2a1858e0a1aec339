import SonoBase
/// Summary of one metric over images: mean, sample standard deviation, median and a bootstrap confidence
/// interval of the mean, over the values that exist (nil values are skipped and counted in `missing`).
public struct MetricSummary: Codable, Sendable, Equatable {
    /// Values summarised.
    public var count: Int
    /// Values that were nil (not computable for that image, e.g. HD95 with one empty mask).
    public var missing: Int
    /// Arithmetic mean; nil when `count` is 0.
    public var mean: Double?
    /// Sample standard deviation (n − 1 denominator); nil when `count` < 2.
    public var std: Double?
    /// Median (mean of the middle two for an even count); nil when `count` is 0.
    public var median: Double?
    /// Bootstrap percentile confidence interval of the mean; nil when `count` is 0 or no resamples were drawn.
    public var ciLower: Double?
    public var ciUpper: Double?

    public init(count: Int, missing: Int, mean: Double?, std: Double?, median: Double?, ciLower: Double?,
                ciUpper: Double?) {
        (self.count, self.missing, self.mean, self.std, self.median) = (count, missing, mean, std, median)
        (self.ciLower, self.ciUpper) = (ciLower, ciUpper)
    }

    /// Summarises `values`; the interval is drawn with `bootstrap` from `rng`.
    public init(_ values: [Double?], bootstrap: BootstrapSettings = BootstrapSettings(), rng: inout SplitMix64) {
        let present = values.compactMap { $0 }
        let n = present.count
        count = n
        missing = values.count - n
        guard n > 0 else {
            mean = nil; std = nil; median = nil; ciLower = nil; ciUpper = nil
            return
        }
        let m = present.reduce(0, +) / Double(n)
        mean = m
        std = n < 2 ? nil : (present.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
        median = Quantile.median(sorted: present.sorted())
        let interval = Bootstrap.meanInterval(present, settings: bootstrap, rng: &rng)
        ciLower = interval?.lower
        ciUpper = interval?.upper
    }
}

/// How bootstrap confidence intervals are drawn (recorded in reports so that a number can be reproduced).
public struct BootstrapSettings: Codable, Sendable, Equatable {
    /// Resamples drawn (with replacement, each the size of the data).
    public var resamples: Int
    /// Coverage of the interval, e.g. 0.95.
    public var confidence: Double
    /// Seed of the `SplitMix64` streams.
    public var seed: UInt64

    public init(resamples: Int = 1000, confidence: Double = 0.95, seed: UInt64 = 0) {
        (self.resamples, self.confidence, self.seed) = (resamples, confidence, seed)
    }
}

/// Nonparametric bootstrap of the mean.
public enum Bootstrap {
    /// Percentile-method interval: the (1 − c)/2 and (1 + c)/2 quantiles (linear interpolation) of the means
    /// of `settings.resamples` resamples of `values` drawn with replacement from `rng`. nil for no values or
    /// no resamples. (`settings.seed` is not used here: the caller owns `rng`.)
    public static func meanInterval(_ values: [Double], settings: BootstrapSettings,
                                    rng: inout SplitMix64) -> (lower: Double, upper: Double)? {
        let n = values.count
        guard n > 0, settings.resamples > 0 else { return nil }
        var means = [Double](repeating: 0, count: settings.resamples)
        for b in 0..<settings.resamples {
            var sum = 0.0
            for _ in 0..<n { sum += values[rng.nextIndex(below: n)] }
            means[b] = sum / Double(n)
        }
        return percentiles(means, confidence: settings.confidence)
    }

    /// The percentile-method interval of resampled statistics: their (1 − c)/2 and (1 + c)/2 quantiles (linear
    /// interpolation); nil for none.
    public static func percentiles(_ statistics: [Double], confidence: Double) -> (lower: Double, upper: Double)? {
        let sorted = statistics.sorted(), tail = (1 - confidence) / 2
        guard let lower = Quantile.linear(sorted: sorted, tail), let upper = Quantile.linear(sorted: sorted, 1 - tail) else { return nil }
        return (lower, upper)
    }
}
