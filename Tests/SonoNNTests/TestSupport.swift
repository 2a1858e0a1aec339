import Foundation
import XCTest
@testable import SonoNN

/// A fixture file from `Fixtures/` (copied into the test bundle).
func fixtureURL(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
        XCTFail("missing fixture \(name)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
    return url
}

/// A fixture JSON object.
func fixtureJSON(_ name: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL(name))) as! [String: Any]
}

/// JSON numbers (or nested lists of them) as Float32.
func floats(_ v: Any?) -> [Float] { (v as! [Any]).map { Float(($0 as! NSNumber).doubleValue) } }

/// A fresh folder removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sononn-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// |a − e| ≤ tolerance · max(|e|, 1) element-wise (relative, with an absolute floor near zero).
func assertClose(_ actual: [Float], _ expected: [Float], relative tolerance: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): counts differ", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= tolerance * max(abs(e), 1)) {
        XCTFail("\(message) element \(i): \(a) vs expected \(e)", file: file, line: line)
        return
    }
}

/// Asserts that `body` throws an error whose message contains every string in `fragments`.
func assertThrows<T>(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
    } catch {
        let text = String(describing: error)
        for f in fragments where !text.contains(f) {
            XCTFail("error '\(text)' does not mention '\(f)'", file: file, line: line)
        }
    }
}
