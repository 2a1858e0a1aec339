import XCTest
final class SonoImagingTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
