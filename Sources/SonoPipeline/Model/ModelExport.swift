import Foundation

/// A model file given as itself or as the run folder holding `model.safetensors`: the one rule every command
/// that takes `--model` follows.
public func modelFile(_ path: URL) -> URL {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir), isDir.boolValue {
        return path.appendingPathComponent("model.safetensors")
    }
    return path
}

/// Rewrites a model file's weights at another precision and keeps its header (what the model is, how to
/// preprocess, its threshold): float16 halves a shipped model and loads back as Float32. Works for every
/// SonoSeg model file (U-Net, classification, implicit). Returns the number of tensors and the new file size.
@discardableResult
public func exportModel(_ source: URL, to destination: URL, dtype: Safetensors.DType) throws -> (tensors: Int, bytes: Int) {
    let (tensors, metadata) = try Safetensors.read(source)
    guard !metadata.isEmpty else {
        throw PipelineError.noModel("\(source.path): no SonoSeg header (a model file carries its configuration in __metadata__)")
    }
    let ordered = tensors.keys.sorted().map { ($0, tensors[$0]!) }
    try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Safetensors.write(ordered, metadata: metadata, dtype: dtype, to: destination)
    let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
    return (ordered.count, size)
}
