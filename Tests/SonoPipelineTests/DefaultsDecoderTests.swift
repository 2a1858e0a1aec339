import Foundation
import SonoBase
import SonoData
import XCTest

/// Configuration decodes over its encoded defaults at every depth, so a type declares each field once (with its
/// default) and synthesised `Codable` does the rest.
final class DefaultsDecoderTests: XCTestCase {
    struct Leaf: DefaultDecodable, Equatable { var a = 1; var b = "two"; init() {} }
    struct Root: DefaultDecodable, Equatable {
        var leaf = Leaf()
        var leaves: [Leaf] = []
        var maybe: Leaf? = nil
        var seed: UInt64 = 0
        var rate: Float = 0.5
        init() {}
    }

    func testMissingKeysKeepTheirDefaultsAtEveryDepth() throws {
        let json = #"{"leaf": {"a": 5}, "leaves": [{"b": "x"}, {}], "maybe": {"a": 7}, "seed": 18446744073709551615}"#
        let r = try DefaultsDecoder().decode(Root.self, from: Data(json.utf8))
        XCTAssertEqual(r.leaf.a, 5); XCTAssertEqual(r.leaf.b, "two")
        XCTAssertEqual(r.leaves.map(\.a), [1, 1]); XCTAssertEqual(r.leaves.map(\.b), ["x", "two"])
        XCTAssertEqual(r.maybe?.a, 7); XCTAssertEqual(r.maybe?.b, "two")
        XCTAssertEqual(r.seed, UInt64.max, "every digit of a large seed")
        XCTAssertEqual(r.rate, 0.5)
        XCTAssertEqual(try DefaultsDecoder().decode(Root.self, from: Data("{}".utf8)), Root())
        // null is a key left out, as the hand-written decoders read it
        XCTAssertEqual(try DefaultsDecoder().decode(Root.self, from: Data(#"{"leaf": {"a": null}, "rate": null}"#.utf8)), Root())
        // a round trip through synthesised encoding gives the value back
        XCTAssertEqual(try DefaultsDecoder().decode(Root.self, from: JSONEncoder().encode(r)), r)
    }

    func testWrongTypesAndRangesAreErrorsWithTheirPath() {
        XCTAssertThrowsError(try DefaultsDecoder().decode(Root.self, from: Data(#"{"leaf": {"a": "five"}}"#.utf8))) { error in
            guard case let DecodingError.typeMismatch(_, context) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["leaf", "a"])
        }
        XCTAssertThrowsError(try DefaultsDecoder().decode(Root.self, from: Data(#"{"seed": -1}"#.utf8)))
        XCTAssertThrowsError(try DefaultsDecoder().decode(Root.self, from: Data(#"{"rate": 1e39}"#.utf8)), "beyond Float, not infinity")
        XCTAssertThrowsError(try DefaultsDecoder().decode(Root.self, from: Data(#"{"leaf": {"a": 1.5}}"#.utf8)))
    }

    /// The library's own configurations: a partial augmentation block keeps every other default.
    func testLibraryConfigurationsDecodeOverTheirDefaults() throws {
        let a = try DefaultsDecoder().decode(AugmentationConfig.self, from: Data(#"{"maxRotationDegrees": 30}"#.utf8))
        var expected = AugmentationConfig()
        expected.maxRotationDegrees = 30
        XCTAssertEqual(a, expected)
    }
}
