/// Order statistics shared by the aggregates.
enum Quantile {
    /// The `p`-quantile (`p` in [0, 1]) of already sorted values by linear interpolation between closest ranks
    /// (NumPy's default, "type 7"); nil for no values.
    static func linear(sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = p * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(sorted.count - 1, lower + 1)
        let fraction = position - Double(lower)
        // Written so that equal neighbours give exactly their value (no 1 + 0·x rounding surprises).
        return fraction == 0 ? sorted[lower] : sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// Median (mean of the two middle values for an even count); nil for no values.
    static func median(sorted: [Double]) -> Double? { linear(sorted: sorted, 0.5) }
}
