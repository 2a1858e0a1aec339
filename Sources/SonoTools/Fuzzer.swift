import SonoConvNets
import SonoRegistry
import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoImaging
import SonoNN

/// A seeded mutation fuzzer for every reader of untrusted bytes: PNG, JPEG and BMP decoding, safetensors
/// files, recipes and model headers (single and ensemble, down to building the network they describe). Each
/// seed file of the corpus (`fuzz/corpus/`) is first read as it is, then mutated (bit flips,
/// byte overwrites with boundary values, truncation, insertion, deletion, duplication of a block) and handed to
/// the reader its extension names. A reader may throw (that is a refusal with a message, counted); it may not
/// crash or hang. Input `i` depends only on (seed, i), so `--only i` replays one.
public enum Fuzzer {
    public struct Report: Sendable {
        public var runs = 0
        /// Inputs the reader refused with an error (the expected outcome for most mutants).
        public var refused = 0
        public var perTarget: [String: Int] = [:]
        /// Seed files replayed unmutated that the reader refused (the corpus holds bad inputs on purpose).
        public var seedsRefused = 0
        /// The slowest input: target, index and seconds (a hang is one over 10 s).
        public var slowest: (target: String, index: Int, seconds: Double) = ("", 0, 0)
    }

    /// The reader a corpus file feeds, by its extension or name.
    enum Target: String, CaseIterable {
        case image, safetensors, recipe, modelHeader

        init?(_ file: URL) {
            switch file.pathExtension.lowercased() {
            case "png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm": self = .image
            case "safetensors": self = .safetensors
            case "json": self = file.lastPathComponent.hasPrefix("model-header") ? .modelHeader : .recipe
            default: return nil
            }
        }

        /// Runs the reader on `bytes`; returns false when it refused them with an error.
        func accept(_ bytes: [UInt8]) -> Bool {
            do {
                switch self {
                case .image:
                    // A small limit keeps size-field mutants from spending seconds on legal but huge images.
                    _ = try ImageIO.decode(bytes, path: "fuzz", maxPixels: 4_000_000)
                case .safetensors:
                    _ = try Safetensors.read(Data(bytes), file: "fuzz")
                case .recipe:
                    try Recipe.decode(Data(bytes), path: "fuzz").validate(recipe: nil)
                case .modelHeader:
                    _ = try buildModels(bytes)
                }
                return true
            } catch {
                return false
            }
        }
    }

    /// Networks whose weights would take more than this (from `ModelInfo.estimatedSize`, as float32) are checked
    /// but not built while fuzzing: a valid but big header would otherwise spend seconds and gigabytes per
    /// mutant on weights nobody reads. The shipped U-Nets (about 8M parameters) stay under it.
    static let buildLimit = 64.0 * 1024 * 1024

    /// The model-header target: `bytes` as a single model's header or, with a `members` key, an ensemble's,
    /// through the checks `segment` applies, then each network built (not run) as loading a file builds it,
    /// so a header that passes the checks but crashes an initialiser is found. Returns the networks built.
    static func buildModels(_ bytes: [UInt8]) throws -> Int {
        let infos = try ModelHeader.networks(describedBy: String(decoding: bytes, as: UTF8.self), file: URL(fileURLWithPath: "fuzz"))
        let small = infos.filter { 4 * $0.estimatedSize.weights <= buildLimit }
        for info in small { _ = info.buildNetwork() }
        return small.count
    }

    /// Feeds `bytes` to the readers their first bytes point at (an image signature: the image decoders; an
    /// 8-byte length and "{": safetensors; "{": the recipe and model-header decoders), for libFuzzer, which
    /// hands over bytes without a file name. Errors are the expected outcome; only a crash or a hang is a bug.
    public static func readAny(_ bytes: [UInt8]) {
        if ImageFormat.detect(bytes) != nil { _ = Target.image.accept(bytes); return }
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{") { _ = Target.safetensors.accept(bytes); return }
        _ = Target.recipe.accept(bytes)
        _ = Target.modelHeader.accept(bytes)
    }

    /// The input currently running, for the crash handler to name.
    nonisolated(unsafe) static var current: (target: Int32, index: Int32) = (-1, -1)

    /// Mutants of every corpus file, `runs` in all (spread evenly over the files).
    public static func run(corpus: URL, runs: Int, seed: UInt64, only: Int? = nil, log: (String) -> Void) throws -> Report {
        let files = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { Target($0) != nil }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw PipelineError.emptyDataset("\(corpus.path): no fuzz seeds (.png .jpg .bmp .tif .dcm .safetensors .json)") }
        let seeds = try files.map { [UInt8](try Data(contentsOf: $0)) }
        installCrashReport()
        // Each seed as it is, first: the corpus keeps inputs that once crashed a reader, and a mutant of one
        // is usually refused before it reaches the code the original reached.
        var report = Report()
        if only == nil {
            for (k, bytes) in seeds.enumerated() {
                current = (Int32(k), -1)
                if !Target(files[k])!.accept(bytes) { report.seedsRefused += 1 }
            }
        }
        let indices = only.map { [$0] } ?? Array(0..<runs)
        for i in indices {
            let k = i % files.count, target = Target(files[k])!
            var rng = RandomGenerator(seed: seed, stream: [UInt64(i)])
            let input = mutate(seeds[k], rng: &rng)
            current = (Int32(k), Int32(i))
            let started = DispatchTime.now().uptimeNanoseconds
            let accepted = target.accept(input)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            report.runs += 1
            if !accepted { report.refused += 1 }
            report.perTarget[files[k].lastPathComponent, default: 0] += 1
            if seconds > report.slowest.seconds { report.slowest = (files[k].lastPathComponent, i, seconds) }
            if (i + 1) % 10_000 == 0 { log("\(i + 1) inputs, \(report.refused) refused, slowest \(String(format: "%.3f", report.slowest.seconds)) s") }
        }
        current = (-1, -1)
        return report
    }

    /// One to four mutations of `seed`.
    static func mutate(_ seed: [UInt8], rng: inout RandomGenerator) -> [UInt8] {
        var b = seed
        let boundaries: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE]
        for _ in 0..<(1 + rng.nextInt(below: 4)) {
            guard !b.isEmpty else { b = [UInt8(truncatingIfNeeded: rng.next())]; continue }
            let at = rng.nextInt(below: b.count)
            switch rng.nextInt(below: 7) {
            case 0: b[at] ^= UInt8(1) << UInt8(rng.nextInt(below: 8))
            case 1: b[at] = boundaries[rng.nextInt(below: boundaries.count)]
            case 2: b[at] = UInt8(truncatingIfNeeded: rng.next())
            case 3: b.removeSubrange(at...)                                             // truncate
            case 4: b.insert(contentsOf: (0..<(1 + rng.nextInt(below: 8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 5: b.removeSubrange(at..<min(b.count, at + 1 + rng.nextInt(below: 16)))
            default:                                                                   // duplicate a block
                let end = min(b.count, at + 1 + rng.nextInt(below: 32))
                b.insert(contentsOf: b[at..<end], at: rng.nextInt(below: b.count))
            }
        }
        return b
    }

    /// On a crash, names the input on standard error (best effort: the process is dying) and exits 70.
    static func installCrashReport() {
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT] {
            signal(sig) { code in
                let (k, i) = Fuzzer.current
                let what = i < 0 ? "seed file \(k) itself; replay with --runs 0" : "input \(i) of seed file \(k); replay with --only \(i)"
                var text = Array("sonoseg fuzz: CRASH (signal \(code)) on \(what)\n".utf8)
                _ = text.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
                _exit(70)
            }
        }
    }
}
