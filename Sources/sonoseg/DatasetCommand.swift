import SonoConvNets
import ArgumentParser
import Foundation
import SonoData
import SonoDiagnosis
import SonoRegistry

/// `sonoseg dataset …`: look at a dataset before training on it.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataset",
        abstract: "Inspect, fingerprint, split and benchmark a dataset.",
        subcommands: [Inspect.self, FingerprintCommand.self, Split.self, Windows.self, Candidates.self, Bench.self])

    /// Options shared by every dataset subcommand.
    struct Source: ParsableArguments {
        @Argument(help: "Dataset folder (or a parent of it).")
        var path: String

        @Option(help: "Layout: busi, bus-bra, udiat, nnunet or paired (detected when omitted).")
        var layout: String?

        func read() throws -> Dataset {
            var chosen: DatasetLayout?
            if let layout {
                guard let parsed = DatasetLayout(rawValue: layout) else {
                    throw ValidationError("unknown layout \(layout); use one of "
                        + DatasetLayout.allCases.map(\.rawValue).joined(separator: ", "))
                }
                chosen = parsed
            }
            return try Dataset.read(URL(fileURLWithPath: path), layout: chosen)
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count images, masks, patients and classes; list problems.")

        @OptionGroup var source: Source
        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        func run() throws {
            let report = DatasetInspector().inspect(try source.read())
            if json {
                FileHandle.standardOutput.write(try DatasetCommand.json(report))
                print()
            } else {
                print(InspectionTable.render(report))
            }
        }
    }
}

extension DatasetCommand {
    struct FingerprintCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fingerprint",
            abstract: "Write median size, intensity percentiles and lesion-size statistics as JSON.")

        @OptionGroup var source: Source
        @Option(help: "Output JSON file (written atomically).")
        var out: String

        func run() throws {
            let fingerprint = DatasetFingerprint.compute(try source.read())
            try fingerprint.write(to: URL(fileURLWithPath: out))
            for failure in fingerprint.failures { FileHandle.standardError.write(Data("skipped: \(failure)\n".utf8)) }
            print("wrote \(out): \(fingerprint.samples) samples, median \(Int(fingerprint.medianWidth))×\(Int(fingerprint.medianHeight)) px")
        }
    }

    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make (once) a seeded split, stratified by class and grouped by patient and duplicate image.")

        @OptionGroup var source: Source
        @Option(help: "Output JSON file; reused (and checked) if it already exists.")
        var out: String
        @Option(help: "Cross-validation folds (below 2: one train/validation split).")
        var folds = 5
        @Option(name: .customLong("test-fraction"), help: "Fraction held out for testing.")
        var testFraction = 0.2
        @Option(name: .customLong("validation-fraction"), help: "Validation fraction when folds < 2.")
        var validationFraction = 0.2
        @Option(help: "Random seed.")
        var seed: UInt64 = 0

        func run() throws {
            let dataset = try source.read()
            let configuration = SplitConfiguration(folds: folds, testFraction: testFraction,
                                                   validationFraction: validationFraction, seed: seed)
            let (split, created) = try SplitStore.loadOrCreate(URL(fileURLWithPath: out), dataset: dataset,
                                                               configuration: configuration)
            let parts = split.folds.isEmpty ? "train \(split.train.count), validation \(split.validation.count)"
                : "folds " + split.folds.map { String($0.count) }.joined(separator: "/")
            print("\(created ? "wrote" : "reused") \(out): test \(split.test.count), \(parts)")
        }
    }

    struct Windows: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cut lesion-free and lesion windows from lesion images: presence training data from every scanner.",
            discussion: """
            Each pair is a lesion-free window and a window holding the lesion, of the same size, anywhere in the frame. \
            Windows keep their source image's part of the split (fold 0 is validation). Writes a \
            paired dataset: images/, masks/, labels.csv (lesion/normal), split.json, windows.csv (source and box).
            """)

        @OptionGroup var source: Source
        @Option(help: "The dataset's split file (the segmentation one: windows of test images stay test).")
        var split: String
        @Option(help: "New folder to write (refused if it exists).")
        var out: String
        @Option(help: "Window pairs tried per image.")
        var pairs = 3
        @Option(help: "Random seed.")
        var seed: UInt64 = 0

        func run() throws {
            let dataset = try source.read()
            let s = try SplitStore.load(URL(fileURLWithPath: split), dataset: dataset)
            var config = PresenceWindowConfig()
            (config.pairsPerImage, config.seed) = (pairs, seed)
            let summary = try PresenceWindowWriter.write(dataset, split: s, config: config, to: URL(fileURLWithPath: out)) { print($0) }
            for part in ["train", "validation", "test"] {
                print("\(part): \(summary.windows.filter { $0.part == part }.count) windows")
            }
            print("wrote \(out)/ (train on it with labels \"presence\" and split \(out)/split.json)")
        }
    }

    struct Candidates: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cut presence training data at the segmenter's scale: each lesion, and the segmenter's strongest region away from it.",
            discussion: """
            For a presence classifier that reads the window around the region the segmenter found (a recipe with \
            labels "presence" and preprocess.crop), as the bundle asks it at inference. Each lesion image gives \
            its lesion (label lesion) and the largest region the segmenter finds away from it, at the first of \
            thresholds 0.5, 0.3, 0.1 (else half the highest probability outside the lesion) that gives one whose \
            window holds at most 5% of the lesion (label normal); a \
            normal image gives its largest region, unless --lesion-images-only. Regions keep their source image's (fold 0 validation) \
            part of the split. Writes a paired dataset: images/, masks/ (the regions), labels.csv, split.json, \
            candidates.csv (source, threshold, box).
            """)

        @OptionGroup var source: Source
        @Option(help: "The dataset's split file (regions of test images stay test).")
        var split: String
        @Option(help: "Segmenter model file (\"default\": the bundled model). Use the one the bundle will run.")
        var segmenter = "default"
        @Option(help: "New folder to write (refused if it exists).")
        var out: String
        @Option(help: "The classifier's window: context on each side as a fraction of the region's longer side (its recipe's preprocess.crop.margin).")
        var margin = 0.3
        @Option(help: "The classifier's smallest window as a fraction of the image's shorter side (preprocess.crop.minimumFraction).")
        var minimumFraction = 0.2
        @Flag(help: "Leave out the regions of images without a lesion (e.g. when those images are the test of a leave-one-dataset-out run).")
        var lesionImagesOnly = false
        @Flag(help: "A lesion image's negative is a box of the lesion's size (or 3/4, 1/2 of it) centred on the candidate, instead of the candidate's own region.")
        var lesionSizedNegatives = false

        func run() throws {
            let dataset = try source.read()
            let s = try SplitStore.load(URL(fileURLWithPath: split), dataset: dataset)
            var config = PresenceCandidateConfig()
            (config.crop.margin, config.crop.minimumFraction, config.includeNormalImages) = (margin, minimumFraction, !lesionImagesOnly)
            config.lesionSizedNegatives = lesionSizedNegatives
            let model = try segmenterModel(segmenter, load: loadSegmenter)
            let summary = try PresenceCandidateWriter.write(dataset, split: s, segmenter: model, config: config,
                                                            to: URL(fileURLWithPath: out)) { print($0) }
            for part in ["train", "validation", "test"] {
                let here = summary.candidates.filter { $0.part == part }
                print("\(part): \(here.filter { $0.label == "lesion" }.count) lesions, \(here.filter { $0.label == "normal" }.count) candidates")
            }
            print("wrote \(out)/ (train on it with labels \"presence\", preprocess.crop and split \(out)/split.json)")
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure images/second for decode + resize + augment on all cores.")

        @OptionGroup var source: Source
        @Option(help: "Square input size in pixels.")
        var size = 256
        @Option(help: "Stop after this many images.")
        var images = 512
        @Option(help: "Batch size.")
        var batchSize = 16
        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let dataset = try source.read()
            let result = try benchmarkLoader(samples: dataset.samples, size: size, batchSize: batchSize, maxImages: images)
            if json {
                FileHandle.standardOutput.write(try DatasetCommand.json(result))
                print()
            } else {
                print(String(format: "%d images of %dx%d in %.2f s: %.1f images/s on %d cores",
                             result.images, size, size, result.seconds, result.imagesPerSecond, result.cores))
            }
        }
    }
}
