import Foundation
import SonoMetrics
import SonoPipeline

/// Reads a convolutional model file (or a run folder's `model.safetensors`): one U-Net or task network, or an
/// ensemble file written by `sonoseg export --ensemble`. `loadSegmenter` (SonoRegistry) reads every family.
public func loadModelFile(_ path: URL) throws -> Segmenter {
    let (url, tensors, metadata) = try readModelFile(path)
    if ModelEnsemble.memberCount(metadata) != nil { return try ModelEnsemble(tensors: tensors, metadata: metadata, url: url) }
    return try LoadedModel(tensors: tensors, info: ModelInfo.read(from: metadata, of: url), url: url)
}
