import SonoConvNets
import Foundation
import SonoPipeline
import SonoImplicit

/// Reads any model file SonoSeg writes (or a run folder's `model.safetensors`), whatever its family: an implicit
/// network (NISF, Byra), or a convolutional model, one network or an ensemble (`loadModelFile`). Where the
/// families meet, so that no family's target knows another.
public func loadSegmenter(_ path: URL) throws -> Segmenter {
    if ImplicitModel.isImplicitModel(path.path) { return ImplicitSegmenter(try ImplicitModel(contentsOf: ImplicitModel.locate(path.path))) }
    return try loadModelFile(path)
}
