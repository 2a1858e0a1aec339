import SonoBase
/// A closed range of doubles that encodes as `{"low": …, "high": …}` in configuration files.
public struct Interval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    public init(_ low: Double, _ high: Double) { self.low = low; self.high = high }

    func sample(_ rng: inout RandomGenerator) -> Double { rng.uniform(low, high) }
}
