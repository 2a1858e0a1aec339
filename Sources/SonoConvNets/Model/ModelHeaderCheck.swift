import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData
import SonoModels

/// The one check every model description passes before a network is built from it: a single model's header
/// (`ModelInfo.read`), each member of an ensemble (`ModelEnsemble.header`) and the fuzz harness's model-header
/// target. A header is untrusted bytes: a value the network's initialisers cannot take (depth -1, width 0) is
/// a precondition failure, and a legal but huge one (depth 7 at 512 channels) an allocation that takes the
/// machine down, so both are refused here, naming the key and the value.
extension ModelInfo {
    static let format1 = "sonoseg.model/1"

    /// The most memory a header may ask for (`estimatedBytes`). SonoSeg's own models need tens of megabytes;
    /// the limit leaves room for much larger ones and stays below what a workstation has.
    static let memoryLimit = 8.0 * 1024 * 1024 * 1024

    /// Every value no network can be built from, each as "key is value; allowed: …" with the key as written in
    /// the header (empty when fine). The memory estimate is made only once the sizes are in range, and compared
    /// with `memoryLimit`.
    func problems(memoryLimit: Double = ModelInfo.memoryLimit) -> [String] {
        var out = preprocess.problems
        if format != Self.format1 { out.append("format is '\(format)'; allowed: \(Self.format1)") }
        if let classifier {
            out += classifier.problems.map { renaming($0, "model.", to: "classifier.") } + classifier.countProblems
            // `predict` cuts the class outputs into rows of classNames.count.
            if let names = classNames, classifier.classCount > 0, names.count != classifier.classCount {
                out.append("classNames has \(names.count) names; allowed: one per class of the classifier (\(classifier.classCount))")
            }
            if architecture != classifier.kind.rawValue {
                out.append("architecture is '\(architecture)'; allowed: '\(classifier.kind.rawValue)' (the classifier's kind)")
            }
        } else {
            if architecture != "unet" {
                let kinds = ClassifyModelKind.allCases.map(\.rawValue).joined(separator: ", ")
                out.append("architecture is '\(architecture)'; allowed: unet (with a classifier entry: one of \(kinds))")
            }
            out += unet.problems.map { renaming($0, "model.", to: "unet.") }
            let f = 1 << max(0, min(unet.depth, 7))
            if preprocess.width % f != 0 || preprocess.height % f != 0 {
                out.append("preprocess size \(preprocess.width)x\(preprocess.height) must be divisible by 2^unet.depth = \(f)")
            }
            if !(0...4).contains(stageHeads) { out.append("stageHeads is \(stageHeads); allowed: 0-4") }
        }
        if let names = classNames, names.isEmpty || Set(names).count != names.count {
            out.append("classNames \(names) must be distinct and not empty")
        }
        if let t = temperature, !(t > 0.01 && t < 100) { out.append("temperature is \(t); allowed: 0.01-100") }
        if !(0...1).contains(threshold) { out.append("threshold is \(threshold); allowed: 0-1") }
        if out.isEmpty, estimatedBytes > memoryLimit {
            out.append("the network would need about \(gibibytes(estimatedBytes)) (weights and one image's activations at \(preprocess.width)x\(preprocess.height)); allowed: at most \(gibibytes(memoryLimit))")
        }
        return out
    }

    /// `info` when a network can be built from it, else an error naming the file, the key and the value.
    static func checked(_ info: ModelInfo, file url: URL) throws -> ModelInfo {
        let problems = info.problems()
        guard problems.isEmpty else {
            throw PipelineError.noModel("\(url.path): invalid model description: " + problems.joined(separator: "; "))
        }
        return info
    }

    /// Bytes the network would hold for inference on one image at the header's input size: float32 weights
    /// twice (the module's and the copy folded for inference) and the activations alive at once. An estimate
    /// from the sizes alone, so it is made before anything is allocated; it is meant to be within a small
    /// factor of the truth, which is all a limit in gigabytes needs. Only for values `problems` lets through.
    var estimatedBytes: Double {
        let (weights, activations) = estimatedSize
        return 4 * (2 * weights + activations)
    }

    /// Parameters and activations (floats) of the network at the header's input size.
    public var estimatedSize: (weights: Double, activations: Double) {
        let pixels = Double(preprocess.width) * Double(preprocess.height)
        return classifier.map { Self.classifierSize($0, pixels: pixels) } ?? Self.unetSize(unet, pixels: pixels, heads: stageHeads)
    }

    /// U-Net: level i has base·2^i channels at pixels/4^i; an encoder block is two 3x3 convolutions, a decoder
    /// level an up-step and a block reading the skip and the up-step side by side. About six feature maps of
    /// each level are alive at once (the skip, the two convolutions' outputs, the concatenation of two).
    static func unetSize(_ u: UNetConfig, pixels: Double, heads: Int) -> (weights: Double, activations: Double) {
        var weights = 0.0, activations = 0.0
        for i in 0...u.depth {
            let w = Double(u.baseChannels) * pow(2, Double(i))
            let cin = i == 0 ? Double(u.inputChannels) : w / 2
            weights += 9 * (cin * w + w * w)
            if i < u.depth { weights += 9 * 2 * w * w + 9 * (2 * w * w + w * w) + (u.attentionGates ? 2 * w * w : 0) }
            activations += 6 * w * pixels / pow(4, Double(i))
        }
        weights += Double(u.baseChannels * u.classes) * Double(1 + heads)
        return (weights, activations)
    }

    /// Classifiers and backbone segmenters, coarser: published parameter counts scaled by width², the classifier
    /// heads, and the widest feature maps at the resolution they run at (a transformer's attention matrices too).
    static func classifierSize(_ c: ClassifyModelConfig, pixels: Double) -> (weights: Double, activations: Double) {
        func resnet(_ r: ResNetConfig) -> (Double, Double) {
            let b = Double(r.baseWidth), scale = b * b / (64 * 64)
            let (params, features): (Double, Double) = switch r.depth {
            case .resnet18: (11.2e6, 8 * b)
            case .resnet34: (21.3e6, 8 * b)
            case .resnet50: (23.5e6, 32 * b)
            }
            return (params * scale + features * Double(r.classes), 8 * b * pixels / 4)
        }
        switch c.kind {
        case .resnet18, .resnet34, .resnet50: return resnet(c.resnet)
        case .vgg16:
            let w = 64 / Double(c.vgg.widthDivisor), p = Double(c.vgg.pooledSize), h = Double(c.vgg.hidden)
            return (14.7e6 / Double(c.vgg.widthDivisor * c.vgg.widthDivisor) + 8 * w * p * p * h + h * h + h * Double(c.vgg.classes),
                    4 * w * pixels)
        case .cnn:
            let widths = c.cnn.widths.map(Double.init)
            let weights = zip([Double(c.cnn.inputChannels)] + widths, widths).reduce(0) { $0 + 9 * $1.0 * $1.1 }
            let activations = widths.enumerated().reduce(0) { $0 + 3 * $1.element * pixels / pow(4, Double($1.offset)) }
            return (weights + (widths.last ?? 0) * Double(c.cnn.classes), activations)
        case .vit:
            let v = c.vit, d = Double(v.dim), p = Double(v.patchSize)
            let tokens = max(pixels, Double(v.imageSize) * Double(v.imageSize)) / (p * p) + 1
            return (Double(v.depth) * (4 * d * d + 2 * d * Double(v.mlpDim)) + p * p * d + tokens * d + d * Double(v.classes),
                    tokens * (6 * d + Double(v.mlpDim)) + Double(v.heads) * tokens * tokens)
        case .fcn, .uresnet:
            let s = c.segmenter
            var (weights, activations) = resnet(s.encoder)
            let channels = s.decoderChannels.map(Double.init)
            weights += zip([8 * Double(s.encoder.baseWidth)] + channels, channels).reduce(0) { $0 + 18 * $1.0 * $1.1 }
            weights += 9 * (channels.last ?? 0) * Double(s.headChannels) + Double(s.classificationHidden) * (8 * Double(s.encoder.baseWidth) + Double(s.classificationClasses))
            // Decoder stage i runs at pixels / 4^(4-i): the last at full resolution.
            activations += channels.enumerated().reduce(0) { $0 + 4 * $1.element * pixels / pow(4, Double(4 - $1.offset)) }
            activations += 2 * Double(s.headChannels) * pixels
            return (weights, activations)
        }
    }
}

extension ClassifyModelConfig {
    /// The channel and class counts `resolved` fills in, which a recipe never sets but a header carries: the
    /// layers are sized by them.
    var countProblems: [String] {
        let prefix = "classifier." + (kind.segments ? "segmenter" : kind == .vgg16 ? "vgg" : kind == .cnn ? "cnn" : kind == .vit ? "vit" : "resnet")
        let counts: [(String, Int, ClosedRange<Int>)] = switch kind {
        case .resnet18, .resnet34, .resnet50: [("inputChannels", resnet.inputChannels, 1...16), ("classes", resnet.classes, 0...1000)]
        case .vgg16: [("inputChannels", vgg.inputChannels, 1...16), ("classes", vgg.classes, 0...1000)]
        case .cnn: [("inputChannels", cnn.inputChannels, 1...16), ("classes", cnn.classes, 0...1000)]
        case .vit: [("inputChannels", vit.inputChannels, 1...16), ("classes", vit.classes, 0...1000), ("imageSize", vit.imageSize, 8...4096)]
        case .fcn, .uresnet: [("encoder.inputChannels", segmenter.encoder.inputChannels, 1...16), ("classes", segmenter.classes, 1...64),
                              ("classificationClasses", segmenter.classificationClasses, 0...1000)]
        }
        return counts.filter { !$0.2.contains($0.1) }.map { "\(prefix).\($0.0) is \($0.1); allowed: \($0.2.lowerBound)-\($0.2.upperBound)" }
    }

    /// The classification head's outputs (0: none).
    var classCount: Int {
        switch kind {
        case .resnet18, .resnet34, .resnet50: resnet.classes
        case .vgg16: vgg.classes
        case .cnn: cnn.classes
        case .vit: vit.classes
        case .fcn, .uresnet: segmenter.classificationClasses
        }
    }
}

/// "2.5 GiB".
func gibibytes(_ bytes: Double) -> String {
    bytes >= 1_073_741_824 ? String(format: "%.1f GiB", bytes / 1_073_741_824) : String(format: "%.0f MiB", bytes / 1_048_576)
}

/// `problem` with its leading `prefix` replaced: the shared config checks name recipe keys (`model.depth`),
/// which a header spells differently (`unet.depth`).
private func renaming(_ problem: String, _ prefix: String, to replacement: String) -> String {
    problem.hasPrefix(prefix) ? replacement + problem.dropFirst(prefix.count) : problem
}

/// The networks a model header describes (one model's, or each ensemble member's), checked as `segment` checks
/// them; for tools that take headers apart (the fuzzer).
public enum ModelHeader {
    public static func networks(describedBy json: String, file: URL) throws -> [ModelInfo] {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return object?["members"] != nil
            ? try ModelEnsemble.header([ModelEnsemble.key: json], of: file).members
            : [try ModelInfo.read(from: [ModelInfo.key: json], of: file)]
    }
}
