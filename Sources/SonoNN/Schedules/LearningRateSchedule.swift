import Foundation
/// A learning rate as a function of the step, stored as a value so a run's configuration (and checkpoint)
/// can carry it as JSON. Steps count from 0; `totalSteps` is the length of the run, used by the schedules that
/// anneal to an end point (cosine, polynomial).
///
/// Build with the static constructors, which check their arguments:
///
///     .constant(1e-3)
///     .exponential(initial: 0.01, decayRate: 0.96, decaySteps: 1000)   // Duffy et al.
///     .step(initial: 0.1, gamma: 0.1, stepSize: 30)
///     .cosine(peak: 1e-3, warmupSteps: 500)
///     .polynomial(initial: 0.01)                                       // nnU-Net
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Kind: Codable, Equatable, Sendable {
        /// lr
        case constant(rate: Float)
        /// lr · γ^(t / k), or γ^⌊t / k⌋ with `staircase` (TensorFlow's `exponential_decay`).
        case exponential(initial: Float, decayRate: Float, decaySteps: Int, staircase: Bool)
        /// lr · γ^⌊t / k⌋ (PyTorch's `StepLR`).
        case step(initial: Float, gamma: Float, stepSize: Int)
        /// Linear warm-up over the first w steps, lr · (t + 1) / w, so the first step already moves and step
        /// w − 1 reaches lr; then cosine annealing (Loshchilov & Hutter, "SGDR", ICLR 2017) down to `minimum` at
        /// the last step T − 1: min + (lr − min) · ½ (1 + cos(π p)), p = (t − a) / (T − 1 − a), a = max(w − 1, 0).
        case cosine(peak: Float, warmupSteps: Int, minimum: Float)
        /// lr · (1 − t / T)^p (Isensee et al., nnU-Net, Nature Methods 2021, with p = 0.9).
        case polynomial(initial: Float, power: Float)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        if let problem = Self.problem(kind) { preconditionFailure("LearningRateSchedule: \(problem)") }
        self.kind = kind
    }

    public static func constant(_ rate: Float) -> Self { Self(.constant(rate: rate)) }
    public static func exponential(initial: Float, decayRate: Float, decaySteps: Int, staircase: Bool = false) -> Self {
        Self(.exponential(initial: initial, decayRate: decayRate, decaySteps: decaySteps, staircase: staircase))
    }
    public static func step(initial: Float, gamma: Float, stepSize: Int) -> Self {
        Self(.step(initial: initial, gamma: gamma, stepSize: stepSize))
    }
    public static func cosine(peak: Float, warmupSteps: Int = 0, minimum: Float = 0) -> Self {
        Self(.cosine(peak: peak, warmupSteps: warmupSteps, minimum: minimum))
    }
    public static func polynomial(initial: Float, power: Float = 0.9) -> Self {
        Self(.polynomial(initial: initial, power: power))
    }

    /// The rate for step `step` (0-based) of a run of `totalSteps` steps. Computed in Double so that long
    /// runs do not drift; steps past the end hold the final rate.
    public func rate(step: Int, totalSteps: Int) -> Float {
        precondition(step >= 0, "LearningRateSchedule: step must be ≥ 0, got \(step)")
        precondition(totalSteps > 0, "LearningRateSchedule: totalSteps must be > 0, got \(totalSteps)")
        let t = Double(step)
        switch kind {
        case let .constant(rate):
            return rate
        case let .exponential(initial, decayRate, decaySteps, staircase):
            let e = t / Double(decaySteps)
            return Float(Double(initial) * pow(Double(decayRate), staircase ? e.rounded(.down) : e))
        case let .step(initial, gamma, stepSize):
            return Float(Double(initial) * pow(Double(gamma), Double(step / stepSize)))
        case let .cosine(peak, warmup, minimum):
            if step < warmup { return Float(Double(peak) * (t + 1) / Double(warmup)) }
            let anchor = max(warmup - 1, 0)
            let p = min(1, (t - Double(anchor)) / Double(max(1, totalSteps - 1 - anchor)))
            return Float(Double(minimum) + Double(peak - minimum) * 0.5 * (1 + cos(Double.pi * p)))
        case let .polynomial(initial, power):
            let remaining = max(0, 1 - t / Double(totalSteps))
            return Float(Double(initial) * pow(remaining, Double(power)))
        }
    }

    /// Why `kind` is not a valid schedule, or nil.
    static func problem(_ kind: Kind) -> String? {
        func rate(_ name: String, _ v: Float) -> String? { v.isFinite && v >= 0 ? nil : "\(name) must be finite and ≥ 0, got \(v)" }
        switch kind {
        case let .constant(r): return rate("rate", r)
        case let .exponential(initial, decayRate, decaySteps, _):
            return rate("initial", initial) ?? (decayRate > 0 && decayRate.isFinite ? nil : "decayRate must be > 0, got \(decayRate)")
                ?? (decaySteps > 0 ? nil : "decaySteps must be > 0, got \(decaySteps)")
        case let .step(initial, gamma, stepSize):
            return rate("initial", initial) ?? (gamma > 0 && gamma.isFinite ? nil : "gamma must be > 0, got \(gamma)")
                ?? (stepSize > 0 ? nil : "stepSize must be > 0, got \(stepSize)")
        case let .cosine(peak, warmup, minimum):
            return rate("peak", peak) ?? rate("minimum", minimum)
                ?? (minimum <= peak ? nil : "minimum \(minimum) exceeds peak \(peak)")
                ?? (warmup >= 0 ? nil : "warmupSteps must be ≥ 0, got \(warmup)")
        case let .polynomial(initial, power):
            return rate("initial", initial) ?? (power > 0 && power.isFinite ? nil : "power must be > 0, got \(power)")
        }
    }

    // Encoded as its kind alone ({"cosine": {"peak": 0.001, "warmupSteps": 500, "minimum": 0}}). Decoding
    // checks the same rules as `init`, but throws: a bad config file is an input error, not a bug.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let kind = try c.decode(Kind.self)
        if let problem = Self.problem(kind) {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "LearningRateSchedule: \(problem)")
        }
        self.kind = kind
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(kind)
    }
}
