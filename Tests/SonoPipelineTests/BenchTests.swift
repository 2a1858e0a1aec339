import XCTest
@testable import SonoPipeline
import SonoTools

final class BenchTests: XCTestCase {
    func testUnknownWorkloadIsAnError() {
        XCTAssertThrowsError(try Bench.run("nope", runs: 1) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("unknown workload 'nope'"))
        }
    }

    /// `bench segment --model M` times M, so a missing M is named before any timing starts.
    func testSegmentWorkloadTimesTheModelItIsGiven() {
        let missing = URL(fileURLWithPath: "/nonexistent/bench-model.safetensors")
        XCTAssertThrowsError(try Bench.run("segment", runs: 1, model: missing) { _ in XCTFail("nothing is timed") }) { error in
            XCTAssertTrue("\(error)".contains(missing.path), "\(error)")
        }
    }
}
