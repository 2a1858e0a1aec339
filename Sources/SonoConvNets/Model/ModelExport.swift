import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoNN
import SonoTensor


/// Rewrites a model file's weights at another precision and keeps its header (what the model is, how to
/// preprocess, its threshold): float16 halves a shipped model and loads back as Float32. Works for every
/// SonoSeg model file (U-Net, classification, implicit). Returns the number of tensors and the new file size.
/// `metadata` replaces the header (a calibrated copy of a classifier).
@discardableResult
public func exportModel(_ source: URL, to destination: URL, dtype: Safetensors.Precision,
                        metadata replacement: [String: String]? = nil) throws -> (tensors: Int, bytes: Int) {
    let (tensors, original) = try Safetensors.read(source)
    let metadata = replacement ?? original
    guard !metadata.isEmpty else {
        throw PipelineError.noModel("\(source.path): no SonoSeg header (a model file carries its configuration in __metadata__)")
    }
    return try writeModelFile(tensors.keys.sorted().map { ($0, tensors[$0]!) }, metadata: metadata, dtype: dtype, to: destination)
}

/// Writes the element-wise mean of several models' weights as one model (a uniform "model soup", Wortsman et
/// al. 2022): runs fine-tuned from the same weights sit in one basin, so their average often predicts better
/// than either and costs nothing at inference. The models must be the same U-Net or classifier with the same
/// preprocessing and threshold (their headers may differ only in recipe name and metrics); the output keeps
/// that header with the metrics dropped (they described one run) and the sources named as its recipe.
/// Returns the tensor count and the file size.
@discardableResult
public func averageModels(_ sources: [URL], to destination: URL, dtype: Safetensors.Precision) throws -> (tensors: Int, bytes: Int) {
    guard let first = sources.first else { throw PipelineError.invalidConfig("export: no model given") }
    let (base, firstInfo) = try readForAveraging(first)
    var sums = base.mapValues { $0.scalars }
    for source in sources.dropFirst() {
        let (tensors, info) = try readForAveraging(source)
        guard info == firstInfo else {
            throw PipelineError.invalidConfig("\(source.path): not the same network, preprocessing and threshold as \(first.path); only identical models can be averaged")
        }
        if let odd = Set(tensors.keys).symmetricDifference(base.keys).sorted().first {
            throw PipelineError.invalidConfig("\(source.path): tensor '\(odd)' is in only one of the files; only identical models can be averaged")
        }
        for (name, tensor) in tensors {
            guard tensor.shape == base[name]!.shape else {
                throw PipelineError.invalidConfig("\(source.path): '\(name)' is \(tensor.shape), in \(first.path) it is \(base[name]!.shape)")
            }
            let values = tensor.scalars
            sums[name]!.withUnsafeMutableBufferPointer { acc in
                for i in acc.indices { acc[i] += values[i] }
            }
        }
    }
    let scale = 1 / Float(sources.count)
    let averaged = base.keys.sorted().map { name in (name, Tensor(sums[name]!.map { $0 * scale }, shape: base[name]!.shape)) }
    var info = firstInfo
    info.recipe = "average of " + sources.map(\.relativePath).joined(separator: ", ")
    return try writeModelFile(averaged, metadata: info.metadata(), dtype: dtype, to: destination)
}


/// Writes `tensors` (atomically, through `Safetensors.write`) and returns their count and the file's size.
func writeModelFile(_ tensors: [(String, Tensor)], metadata: [String: String], dtype: Safetensors.Precision,
                            to destination: URL) throws -> (tensors: Int, bytes: Int) {
    try Folders.create(destination.deletingLastPathComponent())
    try Safetensors.write(tensors, metadata: metadata, dtype: dtype, to: destination)
    let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
    return (tensors.count, size)
}

/// A model's tensors and its header without what describes one run (metrics, recipe name), which is what two
/// averaged models must share.
private func readForAveraging(_ url: URL) throws -> ([String: Tensor], ModelInfo) {
    let (tensors, metadata) = try Safetensors.read(url)
    var info = try ModelInfo.read(from: metadata, of: url)
    info.metrics = [:]
    info.recipe = ""
    return (tensors, info)
}
