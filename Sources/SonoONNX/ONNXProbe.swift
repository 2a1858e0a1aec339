import Foundation
import SonoBase
import SonoConvNets
import SonoData
import SonoImaging
import SonoPipeline
import SonoTensor

/// What SonoSeg itself computes at the network's resolution, for checking an ONNX export against it
/// (`sonoseg export --format onnx --probe IMAGE`, used by Tests/onnx/check_onnx.py): the preprocessed input
/// tensor and the lesion probability before it is mapped back to the image.
public enum ONNXProbe {
    /// For a U-Net or an ensemble (members averaged, as `ModelEnsemble` does): (input, probability), each
    /// [1, 1, H, W] row-major.
    public static func probe(_ model: URL, image: GrayImage) throws -> (input: [Float], probability: [Float], height: Int, width: Int) {
        let segmenter = try loadModelFile(modelFile(model))
        let members: [LoadedModel]
        if let e = segmenter as? ModelEnsemble { members = e.members }
        else if let m = segmenter as? LoadedModel, m.segments { members = [m] }
        else { throw ONNXExportError("\(model.path): --probe needs a segmenter (a U-Net or an ensemble)") }
        let (input, _) = Preprocessor(members[0].info.preprocess).prepare(image)
        var sum = [Float](repeating: 0, count: input.pixels.count)
        for m in members {
            guard m.info.preprocess == members[0].info.preprocess else { throw ONNXExportError("members differ in preprocessing") }
            let p = m.predict(Tensor(input.pixels, shape: [1, 1, input.height, input.width])).lesion!
            for i in sum.indices { sum[i] += p[i] }
        }
        let scale = 1 / Float(members.count)
        return (input.pixels, sum.map { $0 * scale }, input.height, input.width)
    }

    /// For a whole-image classifier: (input, class probabilities [1, K] in `classNames` order).
    public static func probeClassifier(_ model: URL, image: GrayImage) throws -> (input: [Float], classes: [Float], height: Int, width: Int) {
        guard let m = try loadModelFile(modelFile(model)) as? LoadedModel, m.classifies, m.info.preprocess.crop == nil else {
            throw ONNXExportError("\(model.path): --probe of a classifier needs a whole-image classifier (no lesion crop)")
        }
        let (input, _) = Preprocessor(m.info.preprocess).prepare(image)
        let c = m.predict(Tensor(input.pixels, shape: [1, 1, input.height, input.width])).classes!
        return (input.pixels, c[0], input.height, input.width)
    }

    /// Whether the file at `model` is a classifier (no lesion map).
    public static func isClassifier(_ model: URL) -> Bool {
        ((try? loadModelFile(modelFile(model))) as? LoadedModel)?.segments == false
    }

    /// NumPy's .npy (format 1.0) of little-endian float32 values.
    public static func npy(_ values: [Float], shape: [Int]) -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        data += [UInt8(n & 0xff), UInt8(n >> 8)]
        data += Data(header.utf8)
        var le = [UInt8](); le.reserveCapacity(values.count * 4)
        for v in values { let b = v.bitPattern; le += [UInt8(b & 0xff), UInt8(b >> 8 & 0xff), UInt8(b >> 16 & 0xff), UInt8(b >> 24)] }
        data += le
        return data
    }
}
