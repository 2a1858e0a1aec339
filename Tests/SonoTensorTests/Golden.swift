import Foundation
import XCTest
@testable import SonoTensor

/// Reference values written by `scripts/golden/make_golden.py` (PyTorch). See that script for the format.
struct GoldenFile: Decodable {
    let torch: String
    let cases: [GoldenCase]

    /// Loads `Fixtures/<name>.json` from a test bundle.
    static func load(_ name: String, bundle: Bundle) throws -> GoldenFile {
        guard let url = bundle.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/\(name).json"])
        }
        return try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: url))
    }
}

struct GoldenTensor: Decodable {
    let shape: [Int]
    let data: [Float]
    var tensor: Tensor { Tensor(data, shape: shape) }
}

struct GoldenCase: Decodable {
    let name: String, op: String
    let params: [String: [Double]]
    let inputs: [String: GoldenTensor]
    let expected: [String: GoldenTensor]

    func input(_ key: String) -> Tensor { inputs[key]!.tensor }
    func int(_ key: String, default d: Int = 0) -> Int { params[key].map { Int($0[0]) } ?? d }
    func float(_ key: String, default d: Float = 0) -> Float { params[key].map { Float($0[0]) } ?? d }
    func pair(_ key: String) -> (Int, Int) { (Int(params[key]![0]), Int(params[key]![1])) }

    /// Asserts `actual` matches `expected[key]` in shape and, element-wise, |a − e| ≤ tol · max(1, |e|).
    func check(_ key: String, _ actual: Tensor, tolerance: Double = 1e-4, label: String = "",
               file: StaticString = #filePath, line: UInt = #line) {
        guard let e = expected[key] else { return XCTFail("\(name): no expected '\(key)'", file: file, line: line) }
        XCTAssertEqual(actual.shape, e.shape, "\(name)\(label) '\(key)' shape", file: file, line: line)
        guard actual.shape == e.shape else { return }
        var failures = 0
        for (i, (a, b)) in zip(actual.scalars, e.data).enumerated() {
            let err = Swift.abs(Double(a) - Double(b)) / Swift.max(1, Swift.abs(Double(b)))
            if !(err <= tolerance) {
                failures += 1
                if failures <= 3 { XCTFail("\(name)\(label) '\(key)'[\(i)]: \(a) vs PyTorch \(b)", file: file, line: line) }
            }
        }
        if failures > 3 { XCTFail("\(name)\(label) '\(key)': \(failures) elements differ in all", file: file, line: line) }
    }
}
