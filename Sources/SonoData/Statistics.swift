/// min / median / max (and mean) of a list of numbers, for reports.
public struct Summary: Codable, Sendable, Equatable {
    public var min: Double
    public var median: Double
    public var max: Double
    public var mean: Double

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        min = sorted[0]
        max = sorted[sorted.count - 1]
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        mean = values.reduce(0, +) / Double(values.count)
    }
}

/// Percentile by linear interpolation on already sorted values (NumPy's default).
func percentile(sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = p / 100 * Double(sorted.count - 1)
    let lower = Int(position), upper = Swift.min(sorted.count - 1, lower + 1)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}
