import Foundation
import XCTest

/// A short fuzz run in every `make test`: 3,000 mutants of the corpus's PNG, JPEG, BMP, safetensors, recipe
/// and model-header seeds, in a process of its own so that a crash fails this test instead of the suite.
final class FuzzTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testNoReaderCrashesOrHangsOnMutatedInputs() throws {
        let testBinary = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        var executable: URL?
        for _ in 0..<4 where executable == nil {
            let candidate = dir.appendingPathComponent("sonoseg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { executable = candidate }
            dir.deleteLastPathComponent()
        }
        let process = Process()
        process.executableURL = try XCTUnwrap(executable, "no sonoseg executable near \(testBinary.path)")
        process.arguments = ["fuzz", "--runs", "3000", "--seed", "7"]
        process.currentDirectoryURL = root
        let out = Pipe()
        (process.standardOutput, process.standardError) = (out, out)
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("FUZZ runs=3000 "), text)
        // Every seed file took part, and most mutants were refused with an error rather than accepted.
        let seeds = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("fuzz/corpus").path)
            .filter { !$0.hasPrefix(".") }
        XCTAssertGreaterThanOrEqual(seeds.count, 14, "PNG, JPEG, BMP, TIFF, DICOM, safetensors and JSON seeds")
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("SEED ") }.count, seeds.count, text)
        let refused = text.split(separator: " ").first { $0.hasPrefix("refused=") }.flatMap { Int($0.dropFirst(8)) } ?? 0
        XCTAssertGreaterThan(refused, 1_500, text)
    }
}
