import SonoConvNets
import ArgumentParser
import Foundation
import SonoPipeline
import SonoNN

extension Safetensors.Precision: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model's weights at another precision (f16 halves the file), or several models as one (average or ensemble).",
        discussion: """
            Works for U-Net, classification and implicit models; the copy loads wherever the original does.
            Given several models (the same network, e.g. runs fine-tuned from the same weights), writes their \
            element-wise average, a "model soup": one file, no extra inference cost. Score it with \
            `sonoseg evaluate` on the validation split before trusting it. With --ensemble, writes the models \
            side by side instead: `segment` and `evaluate` average their probability maps, which also works for \
            models trained independently (other seeds, other input sizes), at one forward pass per model. \
            With --member N, writes member N of an ensemble file as a model of its own.
            """)

    @Argument(help: "Model file or run folder; several to average them (or, with --ensemble, to keep them side by side).") var models: [String]
    @Option(help: "Output file.") var out: String
    @Option(help: "Precision: f32, f16, bf16, or q8 (8-bit weights with a scale per output channel, a quarter of f32).")
    var dtype: Safetensors.Precision = .f16
    @Flag(help: "Several U-Net models as one ensemble (probabilities averaged) instead of a weight average.") var ensemble = false
    @Option(help: "Write this member (0 = first) of an ensemble file as a single model.") var member: Int?

    func run() throws {
        let sources = models.map { modelFile(URL(fileURLWithPath: $0)) }
        let destination = URL(fileURLWithPath: out)
        if member != nil, sources.count != 1 || ensemble {
            throw ValidationError("--member picks from one ensemble file; give exactly one model and no --ensemble")
        }
        let (count, bytes): (tensors: Int, bytes: Int)
        if let member { (count, bytes) = try ModelEnsemble.extractMember(member, of: sources[0], to: destination, dtype: dtype) }
        else if ensemble { (count, bytes) = try ModelEnsemble.write(sources, to: destination, dtype: dtype) }
        else if sources.count == 1 { (count, bytes) = try exportModel(sources[0], to: destination, dtype: dtype) }
        else { (count, bytes) = try averageModels(sources, to: destination, dtype: dtype) }
        print(String(format: "%d tensors as %@ in %@ (%.1f MB)", count, dtype.rawValue, out, Double(bytes) / 1e6))
    }
}
