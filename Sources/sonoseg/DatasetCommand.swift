import ArgumentParser
import Foundation
import SonoData

/// `sonoseg dataset …`: look at a dataset before training on it.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataset",
        abstract: "Inspect, fingerprint, split and benchmark a dataset.",
        subcommands: [Inspect.self, FingerprintCommand.self, Split.self, Bench.self])

    /// Options shared by every dataset subcommand.
    struct Source: ParsableArguments {
        @Argument(help: "Dataset folder (or a parent of it).")
        var path: String

        @Option(help: "Layout: busi, bus-bra, udiat or paired (detected when omitted).")
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
        static let configuration = CommandConfiguration(commandName: "fingerprint", abstract: "not yet")
        func run() throws {}
    }
    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "not yet")
        func run() throws {}
    }
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "not yet")
        func run() throws {}
    }
}
