import XCTest
@testable import SonoPipeline

final class BenchTests: XCTestCase {
    func testUnknownWorkloadIsAnError() {
        XCTAssertThrowsError(try Bench.run("nope", runs: 1) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("unknown workload 'nope'"))
        }
    }
}
