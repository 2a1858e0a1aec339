import XCTest
final class SonoDataTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
