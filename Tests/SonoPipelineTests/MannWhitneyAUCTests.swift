@testable import SonoMetrics
import SonoBase
import XCTest
@testable import SonoPipeline

final class MannWhitneyAUCTests: XCTestCase {
    /// Positives 0.9, 0.8, 0.3 against negatives 0.8, 0.8, 0.1: 0.9 wins 3; 0.8 ties two (½ each) and wins one;
    /// 0.3 wins one. U = 3 + 2 + 1 = 6 of 9 pairs.
    func testTiesCountHalf() {
        let scores: [Float] = [0.9, 0.8, 0.8, 0.3, 0.8, 0.1]
        let positives = [true, true, false, true, false, false]
        XCTAssertEqual(MannWhitneyAUC.auc(scores: scores, positives: positives)!, 6.0 / 9, accuracy: 1e-15)
    }

    func testConstantScoresGiveOneHalf() {
        let positives = [true, false, false, true, false]
        XCTAssertEqual(MannWhitneyAUC.auc(scores: [Float](repeating: 0.3, count: 5), positives: positives), 0.5)
        XCTAssertEqual(MannWhitneyAUC.auc(scores: [Float](repeating: 0, count: 5), positives: positives), 0.5)
    }

    func testPerfectAndInvertedRankings() {
        let scores: [Float] = [0.1, 0.2, 0.7, 0.9]
        XCTAssertEqual(MannWhitneyAUC.auc(scores: scores, positives: [false, false, true, true]), 1)
        XCTAssertEqual(MannWhitneyAUC.auc(scores: scores, positives: [true, true, false, false]), 0)
    }

    func testUndefinedCases() {
        XCTAssertNil(MannWhitneyAUC.auc(scores: [0.1, 0.5], positives: [true, true]))
        XCTAssertNil(MannWhitneyAUC.auc(scores: [0.1, 0.5], positives: [false, false]))
        XCTAssertNil(MannWhitneyAUC.auc(scores: [.nan, 0.5], positives: [true, false]))
    }

    /// Negative, signed-zero and out-of-range scores still rank numerically (the radix keys are order-preserving).
    func testOrderOfUnusualScores() {
        let scores: [Float] = [-2, -0.0, 0.0, 1e-30, 3, .infinity]
        let positives = [false, true, false, true, false, true]
        // Positives −0, 1e-30, ∞ vs negatives −2, +0, 3: −0 beats −2, ties +0 → 1.5; 1e-30 beats 2; ∞ beats 3.
        XCTAssertEqual(MannWhitneyAUC.auc(scores: scores, positives: positives)!, 6.5 / 9, accuracy: 1e-15)
    }

    /// Against an O(P·N) pair count on random scores with many ties (quantised to 1/16).
    func testMatchesPairCounting() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20 {
            let n = 2 + rng.nextIndex(below: 200)
            let scores = (0..<n).map { _ in Float(rng.nextIndex(below: 17)) / 16 }
            let positives = (0..<n).map { _ in rng.nextIndex(below: 3) == 0 }
            var wins = 0.0, pairs = 0.0
            for i in 0..<n where positives[i] {
                for j in 0..<n where !positives[j] {
                    pairs += 1
                    wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
                }
            }
            let auc = MannWhitneyAUC.auc(scores: scores, positives: positives)
            if pairs == 0 { XCTAssertNil(auc) } else { XCTAssertEqual(auc!, wins / pairs, accuracy: 1e-12) }
        }
    }
}
