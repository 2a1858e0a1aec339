import ArgumentParser
import Foundation
import SonoPipeline

extension Safetensors.DType: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model's weights at another precision (f16 halves the file), keeping its header.",
        discussion: "Works for U-Net, classification and implicit models; the copy loads wherever the original does.")

    @Argument(help: "Model file or run folder.") var model: String
    @Option(help: "Output file.") var out: String
    @Option(help: "Precision: f32, f16 or bf16.") var dtype: Safetensors.DType = .f16

    func run() throws {
        let (count, bytes) = try exportModel(modelFile(URL(fileURLWithPath: model)), to: URL(fileURLWithPath: out), dtype: dtype)
        print(String(format: "%d tensors as %@ in %@ (%.1f MB)", count, dtype.rawValue, out, Double(bytes) / 1e6))
    }
}
