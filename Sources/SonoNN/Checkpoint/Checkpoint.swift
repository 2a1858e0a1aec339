import Foundation
import SonoTensor
/// A training checkpoint: model weights, optimizer state and caller-defined progress (step, epoch, seeds,
/// schedule…) in one safetensors file, so a killed run resumes exactly.
///
/// Layout: tensors `model.<dotted name>` and `optimizer.<state key>`, all F32; the header's `__metadata__`
/// carries the format tag, the optimizer type and hyperparameters (`optimizer.<name>`), and the `extra` value
/// as JSON. Keeping the non-tensor part inside the same file (rather than a JSON file beside it) is what
/// makes saving atomic: one rename replaces everything, so a crash can never pair new weights with old
/// progress. The file stays a plain safetensors file (`safetensors.torch.load_file` reads it).
public enum Checkpoint {
    static let formatKey = "format", format = "sonoseg.checkpoint/1"
    static let optimizerKey = "optimizer", extraKey = "extra"
    static let modelPrefix = "model.", optimizerPrefix = "optimizer."

    /// Saves `model` (parameters and buffers), `optimizer`'s state and `extra` to `url`, atomically.
    public static func save<Extra: Encodable>(model: Module, optimizer: Optimizer?, extra: Extra, to url: URL) throws {
        var metadata = [formatKey: format]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            metadata[extraKey] = String(decoding: try encoder.encode(extra), as: UTF8.self)
        } catch {
            throw CheckpointError.invalidExtra(file: url.path, detail: "\(error)")
        }
        var tensors = model.stateDict().map { (modelPrefix + $0.0, $0.1) }
        if let optimizer {
            metadata[optimizerKey] = typeName(optimizer)
            // Swift's Double description is the shortest string that parses back to the same value.
            for (k, v) in optimizer.hyperparameters { metadata[optimizerPrefix + k] = "\(v)" }
            tensors += optimizer.state().map { (optimizerPrefix + $0.0, $0.1) }
        }
        try Safetensors.write(tensors, metadata: metadata, to: url)
    }

    /// `save` without extra progress data.
    public static func save(model: Module, optimizer: Optimizer? = nil, to url: URL) throws {
        try save(model: model, optimizer: optimizer, extra: [String: String](), to: url)
    }

    /// Loads the weights into `model` (strictly by name and shape) and the state into `optimizer`, and
    /// returns the `extra` value saved with them. Everything is checked before anything changes: on a throw
    /// the model and optimizer are untouched. `optimizer` must be of the type and hyperparameters saved.
    @discardableResult
    public static func load<Extra: Decodable>(model: Module, optimizer: Optimizer?, extra: Extra.Type,
                                              from url: URL) throws -> Extra {
        let file = url.path
        let (tensors, metadata) = try Safetensors.read(url)
        guard metadata[formatKey] == format else {
            throw CheckpointError.notACheckpoint(file: file, detail: "metadata format is \(metadata[formatKey].map { "'\($0)'" } ?? "missing"), expected '\(format)'")
        }
        var weights: [String: Tensor] = [:], state: [String: Tensor] = [:]
        for (name, t) in tensors {
            if name.hasPrefix(modelPrefix) { weights[String(name.dropFirst(modelPrefix.count))] = t }
            else if name.hasPrefix(optimizerPrefix) { state[String(name.dropFirst(optimizerPrefix.count))] = t }
            else { throw CheckpointError.notACheckpoint(file: file, detail: "tensor '\(name)' is neither model. nor optimizer.") }
        }
        let value: Extra
        do {
            value = try JSONDecoder().decode(Extra.self, from: Data((metadata[extraKey] ?? "null").utf8))
        } catch {
            throw CheckpointError.invalidExtra(file: file, detail: "\(error)")
        }
        if let optimizer { try checkOptimizer(optimizer, metadata, file: file) }

        // Each load is all-or-nothing on its own; to make the pair so, keep the old weights and put them back
        // if the optimizer rejects its state (the likelier failure, a wrong architecture, throws first).
        let previous = model.stateDict().map { ($0.0, $0.1.detached()) }
        do {
            try model.load(stateDict: weights, strict: true)
        } catch {
            throw CheckpointError.modelMismatch(file: file, detail: "\(error)")
        }
        do {
            try optimizer?.load(state: state)
        } catch {
            _ = try? model.load(stateDict: previous, strict: true)
            throw CheckpointError.optimizerMismatch(file: file, detail: "\(error)")
        }
        return value
    }

    /// `load` without extra progress data.
    public static func load(model: Module, optimizer: Optimizer? = nil, from url: URL) throws {
        _ = try load(model: model, optimizer: optimizer, extra: IgnoredExtra.self, from: url)
    }

    private struct IgnoredExtra: Decodable { init(from decoder: Decoder) throws {} }

    static func typeName(_ optimizer: Optimizer) -> String { String(describing: type(of: optimizer)) }

    /// A resumed run continues exactly only with the optimizer it was saved with.
    private static func checkOptimizer(_ optimizer: Optimizer, _ metadata: [String: String], file: String) throws {
        guard let saved = metadata[optimizerKey] else {
            throw CheckpointError.optimizerMismatch(file: file, detail: "the checkpoint holds no optimizer state")
        }
        guard saved == typeName(optimizer) else {
            throw CheckpointError.optimizerMismatch(file: file, detail: "saved by \(saved), loading into \(typeName(optimizer))")
        }
        for (k, v) in optimizer.hyperparameters.sorted(by: { $0.key < $1.key }) {
            let s = metadata[optimizerPrefix + k]
            guard let s, Double(s) == v else {
                throw CheckpointError.optimizerMismatch(file: file, detail: "\(k) is \(v) here, \(s ?? "absent") in the checkpoint")
            }
        }
    }
}

/// Why a checkpoint could not be saved or loaded. Each case names the file.
public enum CheckpointError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case notACheckpoint(file: String, detail: String)
    case modelMismatch(file: String, detail: String)
    case optimizerMismatch(file: String, detail: String)
    case invalidExtra(file: String, detail: String)

    public var description: String {
        switch self {
        case let .notACheckpoint(f, d): return "\(f): not a SonoSeg checkpoint: \(d)"
        case let .modelMismatch(f, d): return "\(f): model does not match: \(d)"
        case let .optimizerMismatch(f, d): return "\(f): optimizer does not match: \(d)"
        case let .invalidExtra(f, d): return "\(f): extra data: \(d)"
        }
    }

    public var errorDescription: String? { description }
}
