import XCTest
@testable import SonoNN

/// Schedules against values worked out by hand.
final class ScheduleTests: XCTestCase {
    func rates(_ s: LearningRateSchedule, _ steps: [Int], total: Int) -> [Float] {
        steps.map { s.rate(step: $0, totalSteps: total) }
    }

    func testConstant() {
        XCTAssertEqual(rates(.constant(0.5), [0, 1, 999], total: 1000), [0.5, 0.5, 0.5])
    }

    /// Duffy et al.: 0.01 decayed by 0.96 every 1,000 steps.
    func testExponential() {
        let smooth = LearningRateSchedule.exponential(initial: 0.01, decayRate: 0.96, decaySteps: 1000)
        assertClose(rates(smooth, [0, 500, 1000, 2000], total: 10_000), [0.01, 0.009797959, 0.0096, 0.009216],
                    relative: 1e-6, "smooth")
        let stairs = LearningRateSchedule.exponential(initial: 0.01, decayRate: 0.96, decaySteps: 1000, staircase: true)
        assertClose(rates(stairs, [0, 999, 1000, 1999, 2000], total: 10_000), [0.01, 0.01, 0.0096, 0.0096, 0.009216],
                    relative: 1e-6, "staircase")
    }

    func testStep() {
        let s = LearningRateSchedule.step(initial: 0.1, gamma: 0.5, stepSize: 10)
        assertClose(rates(s, [0, 9, 10, 19, 20, 25], total: 100), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], relative: 1e-7, "step")
    }

    func testCosineWithWarmup() {
        // Warm-up 4 steps: 1/4, 2/4, 3/4, 1; the cosine runs from step 3 (peak) to step 13 (the last of 14).
        let s = LearningRateSchedule.cosine(peak: 1, warmupSteps: 4)
        assertClose(rates(s, [0, 1, 2, 3, 5, 8, 13, 20], total: 14),
                    [0.25, 0.5, 0.75, 1, 0.904508497, 0.5, 0, 0], relative: 1e-6, "warm-up")
        let noWarmup = LearningRateSchedule.cosine(peak: 0.1, minimum: 0.01)
        assertClose(rates(noWarmup, [0, 5, 10], total: 11), [0.1, 0.055, 0.01], relative: 1e-6, "minimum")
    }

    /// nnU-Net: 0.01 · (1 − t/T)^0.9.
    func testPolynomial() {
        let s = LearningRateSchedule.polynomial(initial: 0.01)
        assertClose(rates(s, [0, 500, 900, 1000, 1200], total: 1000), [0.01, 0.005358867, 0.001258925, 0, 0],
                    relative: 1e-6, "poly")
    }

    func testCodableRoundTripAndValidation() throws {
        let all: [LearningRateSchedule] = [.constant(1e-3), .exponential(initial: 0.01, decayRate: 0.96, decaySteps: 1000),
                                           .step(initial: 0.1, gamma: 0.1, stepSize: 30), .cosine(peak: 1e-3, warmupSteps: 5),
                                           .polynomial(initial: 0.01)]
        for s in all {
            let data = try JSONEncoder().encode(s)
            XCTAssertEqual(try JSONDecoder().decode(LearningRateSchedule.self, from: data), s)
        }
        let duffy = #"{"exponential":{"initial":0.01,"decayRate":0.96,"decaySteps":1000,"staircase":true}}"#
        XCTAssertEqual(try JSONDecoder().decode(LearningRateSchedule.self, from: Data(duffy.utf8)),
                       .exponential(initial: 0.01, decayRate: 0.96, decaySteps: 1000, staircase: true))
        let bad = #"{"step":{"initial":0.1,"gamma":0.5,"stepSize":0}}"#
        assertThrows(["stepSize must be > 0, got 0"]) { try JSONDecoder().decode(LearningRateSchedule.self, from: Data(bad.utf8)) }
    }
}
