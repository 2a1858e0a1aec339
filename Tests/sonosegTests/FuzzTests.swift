import Foundation
import XCTest

/// A short fuzz run in every `make test`: every seed of the corpus as it is, then 3,000 mutants of its PNG, JPEG,
/// BMP, safetensors, recipe and model-header seeds, in a process of its own so that a crash fails this test
/// instead of the suite. The corpus keeps the model headers that once crashed `segment` (issue 28: an ensemble
/// member with depth -1, baseChannels 0, depth 99, width 2^40); replayed unmutated, each must be refused.
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
        XCTAssertGreaterThanOrEqual(seeds.count, 18, "PNG, JPEG, BMP, TIFF, DICOM, safetensors and JSON seeds")
        let crashers = seeds.filter { $0.hasPrefix("model-header-") }
        XCTAssertEqual(Set(crashers), ["model-header-base-channels-0.json", "model-header-depth-99.json",
                                       "model-header-width-2pow40.json", "model-header-ensemble-bad-member.json"])
        let seedsRefused = text.split(separator: "\n").first { $0.hasPrefix("SEEDS replayed unmutated, ") }
            .flatMap { Int($0.split(separator: " ")[3]) }
        XCTAssertEqual(seedsRefused, crashers.count, "the crashing headers, and only they, are refused as they are: \(text)")
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("SEED ") }.count, seeds.count, text)
        let refused = text.split(separator: " ").first { $0.hasPrefix("refused=") }.flatMap { Int($0.dropFirst(8)) } ?? 0
        XCTAssertGreaterThan(refused, 1_500, text)
    }
}
