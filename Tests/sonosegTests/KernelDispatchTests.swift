import XCTest
import Foundation

/// oneDNN runs its reference loops, hundreds of times slower than its JIT kernels, for any layout its kernels for
/// the current ISA do not take (16-channel blocks on an AVX2 CPU ran `segment` at 160 s per image). For every
/// ISA cap this machine allows, `sonoseg bench kernels` runs one step of each hot path at the shipped shapes
/// (U-Net and Li et al. training, the bundled model's inference, a ResNet-50 step, the implicit MLP's training
/// and latent steps) and lists the implementation of every primitive that ran: none may be `ref:`.
/// oneDNN reads `ONEDNN_MAX_CPU_ISA` once per process, so each cap runs in a process of its own.
final class KernelDispatchTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `sonoseg` executable built beside the test bundle.
    private func executable() throws -> URL {
        let testBinary = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("sonoseg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        struct Missing: Error, CustomStringConvertible {
            let near: String
            var description: String { "no sonoseg executable near \(near); `make test` builds it (`swift build --build-tests`)" }
        }
        throw Missing(near: testBinary.path)
    }

    private struct Report {
        var isa = "", activations = "", elementwise = "", primitives = 0, reference = 0
        var referenceLines: [String] = []
    }

    private func runKernels(cap: String?) throws -> Report {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["bench", "kernels"]
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env["ONEDNN_MAX_CPU_ISA"] = cap
        env["ONEDNN_VERBOSE"] = nil
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "sonoseg bench kernels (cap \(cap ?? "none")) failed:\n\(text.suffix(2000))")
        var report = Report()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("KERNEL ref") { report.referenceLines.append(String(line)) }
            guard line.hasPrefix("WORKLOAD kernels ") else { continue }
            for field in line.split(separator: " ") {
                let kv = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "isa": report.isa = kv[1]
                case "activations": report.activations = kv[1]
                case "elementwise": report.elementwise = kv[1]
                case "primitives": report.primitives = Int(kv[1]) ?? 0
                case "reference": report.reference = Int(kv[1]) ?? -1
                default: break
                }
            }
        }
        XCTAssertFalse(report.isa.isEmpty, "no WORKLOAD kernels line (cap \(cap ?? "none")):\n\(text.suffix(2000))")
        return report
    }

    func testNoReferenceKernelRunsUnderAnyISACap() throws {
        let native = try runKernels(cap: nil)
        var caps = ["AVX2", "SSE41"]
        if native.isa.hasPrefix("avx512") { caps.insert("AVX512_CORE", at: 0) }
        var reports = [("native (\(native.isa))", native)]
        for cap in caps { reports.append((cap, try runKernels(cap: cap))) }
        for (name, r) in reports {
            XCTAssertGreaterThan(r.primitives, 100, "\(name): the hot paths should run well over 100 primitives")
            XCTAssertEqual(r.reference, 0, "\(name): oneDNN reference kernels ran:\n\(r.referenceLines.joined(separator: "\n"))")
            // The layout follows the ISA: 16-channel blocks with AVX-512, 8 with AVX2, plain below.
            let expected = r.isa.hasPrefix("avx512") ? "nChw16c" : r.isa.hasPrefix("avx2") ? "nChw8c" : "plain"
            XCTAssertEqual(r.activations, expected, "\(name): activation layout for \(r.isa)")
            // The C element-wise kernels follow the same cap: 16 lanes only where oneDNN may use AVX-512.
            XCTAssertEqual(r.elementwise, r.isa.hasPrefix("avx512") ? "avx512" : "baseline", "\(name): element-wise variant")
        }
        let capped = Dictionary(uniqueKeysWithValues: reports.map { ($0.0, $0.1.isa) })
        XCTAssertEqual(capped["AVX2"], native.isa.hasPrefix("sse") ? native.isa : "avx2", "the cap should lower oneDNN's ISA")
        XCTAssertEqual(capped["SSE41"], "sse41")
    }
}
