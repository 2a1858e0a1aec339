import Foundation
import XCTest
import SonoTensor

/// Reference values written by `scripts/golden/make_golden.py` (PyTorch). See that script for the format.
public struct GoldenFile: Decodable {
    public let torch: String
    public let cases: [GoldenCase]

    /// Loads `Fixtures/<name>.json` from a test bundle.
    public static func load(_ name: String, bundle: Bundle) throws -> GoldenFile {
        guard let url = bundle.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/\(name).json"])
        }
        return try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: url))
    }
}

public struct GoldenTensor: Decodable {
    public let shape: [Int]
    public let data: [Float]
    public var tensor: Tensor { Tensor(data, shape: shape) }
}

public struct GoldenCase: Decodable {
    public let name: String, op: String
    public let params: [String: [Double]]
    public let inputs: [String: GoldenTensor]
    public let expected: [String: GoldenTensor]

    public func input(_ key: String) -> Tensor { inputs[key]!.tensor }
    public func int(_ key: String, default d: Int = 0) -> Int { params[key].map { Int($0[0]) } ?? d }
    public func float(_ key: String, default d: Float = 0) -> Float { params[key].map { Float($0[0]) } ?? d }
    public func pair(_ key: String) -> (Int, Int) { (Int(params[key]![0]), Int(params[key]![1])) }

    /// Asserts `actual` matches `expected[key]` in shape and, element-wise, |a − e| ≤ tol · max(1, |e|).
    public func check(_ key: String, _ actual: Tensor, tolerance: Double = 1e-4, label: String = "",
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
