import SonoConvNets
import ArgumentParser
import Foundation
import SonoPipeline
import SonoNN
import SonoONNX
import SonoImaging

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
            With --format onnx, writes one ONNX graph (opset 17, batch norm folded) for ONNX Runtime and other \
            engines: a U-Net, an ensemble as one graph averaging its members' probabilities, or a ResNet \
            classifier of the diagnosis bundle; the preprocessing, threshold and class names go into the \
            model's metadata_props (scripts/onnx_predict.py reproduces `segment` from them). Implicit networks \
            are refused. docs/onnx.md.
            """)

    @Argument(help: "Model file or run folder; several to average them (or, with --ensemble, to keep them side by side).") var models: [String]
    @Option(help: "Output file.") var out: String
    @Option(help: "Precision: f32, f16, bf16, or q8 (8-bit weights with a scale per output channel, a quarter of f32); default f16. With --format onnx: f32 (default) or f16 (float16 weights, cast to float32 in the graph).")
    var dtype: Safetensors.Precision?
    @Option(help: "File format: safetensors (SonoSeg's model file) or onnx.") var format: ExportFormat = .safetensors
    @Option(parsing: .upToNextOption, help: ArgumentHelp("With --format onnx: images whose network-resolution input and probability SonoSeg writes as .npy files into --probe-out (for checking the export).", visibility: .hidden))
    var probe: [String] = []
    @Option(help: ArgumentHelp("Folder for --probe's STEM_input.npy and STEM_prob.npy.", visibility: .hidden)) var probeOut: String?

    enum ExportFormat: String, ExpressibleByArgument { case safetensors, onnx }
    @Flag(help: "Several U-Net models as one ensemble (probabilities averaged) instead of a weight average.") var ensemble = false
    @Option(help: "Write this member (0 = first) of an ensemble file as a single model.") var member: Int?

    func run() throws {
        if format == .onnx { return try runONNX() }
        guard probe.isEmpty else { throw ValidationError("--probe goes with --format onnx") }
        let dtype = self.dtype ?? .f16
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

    func runONNX() throws {
        guard models.count == 1, !ensemble, member == nil else {
            throw ValidationError("--format onnx takes one model file (an ensemble file is exported as one graph); no --ensemble or --member (export a member to safetensors first)")
        }
        guard [nil, .f32, .f16].contains(dtype) else { throw ValidationError("--format onnx writes f32 or f16 weights, not \(dtype!.rawValue)") }
        let source = URL(fileURLWithPath: models[0])
        let summary = try ONNXExport.export(source, to: URL(fileURLWithPath: out), halfWeights: dtype == .f16)
        print(String(format: "ONNX %@: %d nodes, %d initializers (%@) in %@ (%.1f MB), opset %d",
                     summary.kind, summary.nodes, summary.initializers, (dtype ?? .f32).rawValue, out, Double(summary.bytes) / 1e6, Int(ONNXModel.opset)))
        guard !probe.isEmpty else { return }
        let folder = URL(fileURLWithPath: probeOut ?? ".")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for path in probe {
            let url = URL(fileURLWithPath: path)
            let image = try ImageIO.readGray(url).image
            let stem = url.deletingPathExtension().lastPathComponent
            if ONNXProbe.isClassifier(source) {
                let c = try ONNXProbe.probeClassifier(source, image: image)
                try ONNXProbe.npy(c.input, shape: [1, 1, c.height, c.width]).write(to: folder.appendingPathComponent("\(stem)_input.npy"))
                try ONNXProbe.npy(c.classes, shape: [1, c.classes.count]).write(to: folder.appendingPathComponent("\(stem)_classes.npy"))
                continue
            }
            let p = try ONNXProbe.probe(source, image: image)
            try ONNXProbe.npy(p.input, shape: [1, 1, p.height, p.width]).write(to: folder.appendingPathComponent("\(stem)_input.npy"))
            try ONNXProbe.npy(p.probability, shape: [1, 1, p.height, p.width]).write(to: folder.appendingPathComponent("\(stem)_prob.npy"))
        }
        print("probe: \(probe.count) images → \(folder.path)")
    }
}
