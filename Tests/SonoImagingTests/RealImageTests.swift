import Foundation
import SonoImaging
import XCTest

/// Values printed by `scripts/fixtures/check_real_images.py` (Pillow).
final class RealImageTests: XCTestCase {
    private func data(_ relative: String) throws -> URL {
        guard FileManager.default.fileExists(atPath: TestPaths.sharedData.path) else {
            throw XCTSkip("shared data not present at \(TestPaths.sharedData.path)")
        }
        return TestPaths.sharedData.appendingPathComponent(relative)
    }

    func testBUSIGreyImage() throws {
        let image = try ImageIO.read(data("busi/Dataset_BUSI_with_GT/benign/benign (1).png"))
        XCTAssertEqual([image.width, image.height, image.channels], [562, 471, 1])
        XCTAssertEqual([image.byte(x: 0, y: 0, channel: 0), image.byte(x: 100, y: 100, channel: 0),
                        image.byte(x: 150, y: 120, channel: 0)], [7, 178, 222])
    }

    func testBUSIOneBitMask() throws {
        let reading = try ImageIO.readMask(data("busi/Dataset_BUSI_with_GT/benign/benign (1)_mask.png"))
        XCTAssertEqual([reading.mask.width, reading.mask.height], [562, 471])
        XCTAssertEqual(reading.mask.area, 984)
        XCTAssertTrue(reading.isBinary)
    }

    func testBUSIColouredRGBImage() throws {
        let conversion = try ImageIO.readGray(data("busi/Dataset_BUSI_with_GT/benign/benign (102).png"))
        XCTAssertEqual([conversion.image.width, conversion.image.height], [634, 610])
        XCTAssertTrue(conversion.channelsDiffered)
        XCTAssertEqual(conversion.image[100, 100], 0.380392, accuracy: 1e-5)
        XCTAssertEqual(conversion.image[172, 0], 0.891090, accuracy: 1e-5)
    }

    func testBUSIRGBAMask() throws {
        let url = try data("busi/Dataset_BUSI_with_GT/benign/benign (4)_mask_1.png")
        XCTAssertEqual(try ImageIO.read(url).channels, 4)
        let reading = try ImageIO.readMask(url)
        XCTAssertEqual([reading.mask.width, reading.mask.height], [555, 465])
        XCTAssertEqual(reading.mask.area, 624)
    }

    func testBUSBRAImage() throws {
        let image = try ImageIO.read(data("bus-bra/BUSBRA/Images/bus_0001-l.png"))
        XCTAssertEqual([image.width, image.height, image.channels], [199, 256, 1])
        XCTAssertEqual([image.byte(x: 0, y: 0, channel: 0), image.byte(x: 100, y: 100, channel: 0),
                        image.byte(x: 150, y: 120, channel: 0)], [136, 101, 28])
    }
}
