import XCTest
final class SonoNNTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
