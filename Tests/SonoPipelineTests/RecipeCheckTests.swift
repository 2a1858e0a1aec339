import SonoRegistry
import XCTest
import SonoBase
@testable import SonoPipeline

/// Issue 28, item 9: what a recipe file may ask for, and errors that name the file as well as the key.
final class RecipeCheckTests: XCTestCase {
    private let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-check-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func recipe(_ json: String, _ name: String = "r.json") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(json.utf8).write(to: url)
        return url
    }

    /// A split that does not exist was created at that path (outside the run's folder) by the first run.
    func testMissingSplitFileIsRefusedNotCreated() throws {
        let split = dir.appendingPathComponent("elsewhere/split.json")
        let url = try recipe(#"{"data": [{"path": "\#(dir.path)"}, {"path": "\#(dir.path)", "split": "\#(split.path)"}], "epochs": 1}"#)
        XCTAssertThrowsError(try Recipe.load(url)) {
            XCTAssertTrue("\($0)".hasPrefix(url.path) && "\($0)".contains("data[1].split") && "\($0)".contains("\(split.path)' is missing")
                          && "\($0)".contains("leave 'split' out"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: split.deletingLastPathComponent().path))
        try FileManager.default.createDirectory(at: split.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: split)
        XCTAssertNoThrow(try Recipe.load(url), "an existing split is read as before")
    }

    /// JSONDecoder keeps one of two values for a repeated key without a word.
    func testDuplicateKeysAreRefusedWithTheKeyNamed() throws {
        let top = try recipe(#"{"epochs": 1, "data": [{"path": "x"}], "epochs": 40}"#)
        XCTAssertThrowsError(try Recipe.load(top)) {
            XCTAssertTrue("\($0)".hasPrefix(top.path) && "\($0)".contains("key 'epochs' appears twice"), "\($0)")
        }
        let nested = try recipe(#"{"data": [{"path": "x", "repeats": 2, "repeats": 3}]}"#, "nested.json")
        XCTAssertThrowsError(try Recipe.load(nested)) { XCTAssertTrue("\($0)".contains("key 'data[0].repeats' appears twice"), "\($0)") }
        // In a base recipe too: each file of the chain is read raw.
        let base = try recipe(#"{"optimizer": {"kind": "adam", "learningRate": 0.1, "kind": "sgd"}}"#, "base.json")
        let variant = try recipe(#"{"base": "base.json", "epochs": 2}"#, "variant.json")
        XCTAssertThrowsError(try Recipe.load(variant)) {
            XCTAssertTrue("\($0)".hasPrefix(base.path) && "\($0)".contains("'optimizer.kind'"), "\($0)")
        }
    }

    func testDuplicateKeyScan() {
        func scan(_ s: String) -> String? { duplicateJSONKey(Data(s.utf8)) }
        XCTAssertNil(scan(#"{"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}"#), "the same key in different objects is fine")
        XCTAssertNil(scan(#"{"a": "x\"a\": {", "b": "}"}"#), "quotes and braces inside strings are text")
        XCTAssertEqual(scan(#"{"a": 1, "c": [{"k": 1}, {"k": 1, "k": 2}]}"#), "c[1].k")
        XCTAssertEqual(scan(#"{"a": 1, "\u0061": 2}"#), "a", "one key spelt two ways")
        XCTAssertNil(scan("not json {"))
    }

    /// batchSize 1e12 ran (and allocated until it failed); repeats 1e9 grew an epoch past 11 GB.
    func testResourceBoundsGiveTheAllowedRangeAndTheFile() throws {
        for (json, expected) in [
            (#"{"data": [{"path": "x"}], "batchSize": 1e12}"#, "batchSize is 1000000000000; allowed: 1-1024"),
            (#"{"data": [{"path": "x"}], "epochs": 1000000}"#, "epochs is 1000000; allowed: 1-10000"),
            (#"{"data": [{"path": "x"}], "batchSize": 0}"#, "batchSize is 0; allowed: 1-1024"),
            (#"{"data": [{"path": "x"}], "task": "classify", "batchSize": 5000}"#, "batchSize is 5000; allowed: 1-1024"),
        ] {
            let url = try recipe(json)
            XCTAssertThrowsError(try Recipe.load(url).validate(recipe: url.path), json) {
                XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains(expected), "\($0)")
            }
        }
        let repeats = try recipe(#"{"data": [{"path": "x", "repeats": 1e9}]}"#)
        XCTAssertThrowsError(try Recipe.load(repeats)) {
            XCTAssertTrue("\($0)".hasPrefix(repeats.path) && "\($0)".contains("repeats is 1000000000; allowed: 1-1000"), "\($0)")
        }
        XCTAssertNoThrow(try Recipe.load(try recipe(#"{"data": [{"path": "x", "repeats": 1000}], "batchSize": 1024}"#)).validate(recipe: nil))
    }

    /// -1 in a UInt64 was reported as if the file were not JSON.
    func testNegativeSeedSaysWhatASeedIs() throws {
        for json in [#"{"data": [{"path": "x"}], "seed": -1}"#, #"{"data": [{"path": "x"}], "model": {"latentDims": 8}, "seed": -1}"#] {
            let url = try recipe(json)
            XCTAssertThrowsError(try Recipe.load(url)) {
                XCTAssertTrue("\($0)".hasPrefix(url.path) && "\($0)".contains("seed must be a non-negative integer, got -1")
                              && !"\($0)".contains("not valid JSON"), "\($0)")
            }
        }
    }
}
