import XCTest
final class SonoTensorTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
