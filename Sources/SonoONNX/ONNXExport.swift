import Foundation
import SonoBase
import SonoConvNets
import SonoData
import SonoImaging
import SonoModels
import SonoNN
import SonoPipeline
import SonoTensor

/// Why a model cannot be written as ONNX, in words a user can act on.
public struct ONNXExportError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// `sonoseg export MODEL --format onnx`: a convolutional model file as one ONNX graph (opset 17), inference
/// only, batch norm folded into the convolutions.
///
/// - One U-Net: input `image` [N, 1, H, W] (preprocessed: letterboxed or stretched to the network's size and
///   normalised, as the metadata says), output `probability` [N, 1, H, W], the sigmoid of the logits.
/// - An ensemble file (the bundled `models/default`): one graph; every member runs on the same input and
///   `probability` is the mean of their sigmoids. SonoSeg averages at the image's size after mapping each
///   member back; mapping back (crop, bilinear resize) is linear, so averaging first gives the same map. The
///   members must share their preprocessing (else export each with `--member`).
/// - A ResNet classifier (the diagnosis bundle's networks): output `class_probabilities` [N, K], softmax of
///   the logits divided by the calibrated temperature.
/// Implicit networks and the other task networks are refused with the reason.
public enum ONNXExport {
    public struct Summary {
        public var nodes: Int, initializers: Int, bytes: Int, kind: String
    }

    /// Builds the ONNX model of the file at `source` and writes it to `destination`.
    @discardableResult
    public static func export(_ source: URL, to destination: URL, halfWeights: Bool = false) throws -> Summary {
        let file = modelFile(source)
        let model = try build(file, halfWeights: halfWeights)
        let bytes = model.serialized()
        try AtomicFile.write(Data(bytes), to: destination)
        let kind = model.metadata.first { $0.0 == "sonoseg.kind" }?.1 ?? ""
        return Summary(nodes: model.nodes.count, initializers: model.initializers.count, bytes: bytes.count, kind: kind)
    }

    /// The ONNX model of a model file.
    public static func build(_ file: URL, halfWeights: Bool = false) throws -> ONNXModel {
        try refuseImplicit(file)
        let segmenter = try loadModelFile(file)
        var base = ONNXModel(graphName: "sonoseg", producerVersion: SonoSegVersion.current,
                             doc: "Exported by sonoseg \(SonoSegVersion.current) from \(file.lastPathComponent). Research use only; not a medical device.")
        let sha = (try? SHA256.hex(file: file)) ?? ""
        base.metadata = [("sonoseg.version", SonoSegVersion.current), ("sonoseg.source", file.path),
                         ("sonoseg.source_sha256", sha)]
        var b = ONNXGraphBuilder(model: base, halfWeights: halfWeights)
        if let ensemble = segmenter as? ModelEnsemble {
            let infos = ensemble.members.map(\.info)
            guard infos.allSatisfy({ $0.preprocess == infos[0].preprocess }) else {
                throw ONNXExportError("\(file.path): the ensemble's members differ in preprocessing (input size, normalisation), so they cannot share one input; export each with `sonoseg export \(file.path) --member N --out mN.safetensors`, then each of those")
            }
            let input = imageInput(&b, infos[0].preprocess)
            var probabilities: [String] = []
            for (i, member) in ensemble.members.enumerated() {
                guard case let .unet(net) = member.network else { throw ONNXExportError("\(file.path): member \(i) is not a U-Net") }
                let logits = try emitUNet(net.unet, input: input, prefix: "m\(i)", &b)
                probabilities.append(b.node("Sigmoid", [logits], name: "m\(i)_probability"))
            }
            let sum = b.node("Sum", probabilities, name: "probability_sum")
            let scale = b.constant("member_scale", [1 / Float(probabilities.count)], dims: [])
            b.node("Mul", [sum, scale], name: "probability")
            b.model.outputs = [probabilityOutput(infos[0].preprocess)]
            b.model.metadata += segmenterMetadata(infos[0], threshold: ensemble.threshold)
                + [("sonoseg.kind", "segmenter"), ("ensemble.members", "\(infos.count)"),
                   ("ensemble.combine", "mean of the members' sigmoid probabilities, inside the graph")]
            return b.model
        }
        guard let loaded = segmenter as? LoadedModel else { throw ONNXExportError("\(file.path): not a convolutional model file") }
        let info = loaded.info
        switch loaded.network {
        case let .unet(net):
            let input = imageInput(&b, info.preprocess)
            let logits = try emitUNet(net.unet, input: input, prefix: "unet", &b)
            b.node("Sigmoid", [logits], name: "probability")
            b.model.outputs = [probabilityOutput(info.preprocess)]
            b.model.metadata += segmenterMetadata(info, threshold: info.threshold) + [("sonoseg.kind", "segmenter")]
        case let .task(net):
            guard let resnet = net.module as? ResNet, resnet.fc != nil else {
                throw ONNXExportError("\(file.path): a \(info.architecture) network; ONNX export covers U-Nets, U-Net ensembles and ResNet classifiers (the diagnosis bundle's networks). VGG, the simple CNN, ViT, FCN and UResNet are not mapped yet")
            }
            let input = imageInput(&b, info.preprocess)
            let logits = try emitResNet(resnet, input: input, &b)
            let t = info.temperature ?? 1
            let inverse = b.constant("inverse_temperature", [1 / t], dims: [])
            let scaled = b.node("Mul", [logits, inverse], name: "scaled_logits")
            b.node("Softmax", [scaled], [.int("axis", 1)], name: "class_probabilities")
            let names = info.classNames ?? []
            b.model.outputs = [ONNXValueInfo(name: "class_probabilities", shape: [.param("N"), .value(names.count)],
                                             doc: "softmax(logits / temperature) in class_names order")]
            b.model.metadata += preprocessMetadata(info.preprocess) + [
                ("sonoseg.kind", "classifier"), ("sonoseg.architecture", info.architecture),
                ("sonoseg.recipe", info.recipe), ("output.name", "class_probabilities"),
                ("class_names", (try? headerJSON(names)) ?? "[]"), ("temperature", "\(t)"),
            ] + (info.labels.map { [("labels", "\($0)")] } ?? [])
        }
        return b.model
    }

    /// Implicit networks (NISF, Byra, byra-local) fit latent codes per image by gradient descent, or read a
    /// field at arbitrary points: not a feed-forward graph from an image to a mask.
    static func refuseImplicit(_ file: URL) throws {
        guard let (_, metadata) = try? Safetensors.read(file), metadata["implicit"] != nil || metadata["format"]?.hasPrefix("sonoseg.implicit") == true else { return }
        throw ONNXExportError("\(file.path): an implicit network (NISF / Byra / byra-local). Its mask comes from latent codes fitted to each image by gradient descent (or an encoder plus local codes sampled at any resolution) and a coordinate MLP read point by point, which is not a fixed image-to-mask graph; ONNX export covers U-Nets, U-Net ensembles and ResNet classifiers")
    }

    // MARK: - Inputs, outputs, metadata

    static func imageInput(_ b: inout ONNXGraphBuilder, _ p: PreprocessConfig) -> String {
        b.model.inputs = [ONNXValueInfo(name: "image", shape: [.param("N"), .value(1), .value(p.height), .value(p.width)],
                                        doc: "grey image resized to the network's size and normalised, as metadata_props preprocess.* say")]
        return "image"
    }

    static func probabilityOutput(_ p: PreprocessConfig) -> ONNXValueInfo {
        ONNXValueInfo(name: "probability", shape: [.param("N"), .value(1), .value(p.height), .value(p.width)],
                      doc: "lesion probability (after the sigmoid) at the network's resolution")
    }

    static func segmenterMetadata(_ info: ModelInfo, threshold: Float) -> [(String, String)] {
        preprocessMetadata(info.preprocess) + [
            ("sonoseg.architecture", info.architecture), ("sonoseg.recipe", info.recipe),
            ("output.name", "probability"),
            ("postprocess.threshold", "\(threshold)"),
            ("postprocess.resize_back", "crop the letterbox content, then bilinear (half-pixel centres) to the image's size"),
            ("postprocess.fill_holes", "true"), ("postprocess.largest_component", "false"),
            ("class_names", "[\"lesion\"]"),
        ]
    }

    /// Everything a deployer needs to rebuild the input tensor from an image file.
    static func preprocessMetadata(_ p: PreprocessConfig) -> [(String, String)] {
        var out: [(String, String)] = [
            ("input.name", "image"), ("input.width", "\(p.width)"), ("input.height", "\(p.height)"), ("input.channels", "1"),
            ("preprocess.grey", "bt601: (0.299 R + 0.587 G + 0.114 B) / 255 in float32; grey stays v / 255 (16-bit: v / 65535); alpha dropped"),
            ("preprocess.resize", p.resize.rawValue),
            ("preprocess.resampling", p.imageResampling.rawValue),
            ("preprocess.pad_value", "0"),
            ("preprocess.normalization", p.normalization.method.rawValue),
            ("preprocess.low_percentile", "\(p.normalization.lowPercentile)"),
            ("preprocess.high_percentile", "\(p.normalization.highPercentile)"),
            ("preprocess.json", (try? headerJSON(p)) ?? ""),
        ]
        if let m = p.normalization.mean, let s = p.normalization.std {
            out += [("preprocess.mean", "\(m)"), ("preprocess.std", "\(s)")]
        }
        if let crop = p.crop {
            out += [("preprocess.crop_margin", "\(crop.margin)"), ("preprocess.crop_minimum_fraction", "\(crop.minimumFraction)")]
        }
        return out
    }

    // MARK: - Networks

    static func conv(_ b: inout ONNXGraphBuilder, _ x: String, weight: Tensor, bias: Tensor?, stride: (Int, Int),
                     padding: (Int, Int), name: String, relu: Bool) -> String {
        let s = weight.shape
        var inputs = [x, b.weight(name + ".weight", weight.plain().scalars, dims: s)]
        if let bias { inputs.append(b.weight(name + ".bias", bias.plain().scalars, dims: [s[0]])) }
        let y = b.node("Conv", inputs, [.ints("kernel_shape", [s[2], s[3]]), .ints("strides", [stride.0, stride.1]),
                                         .ints("pads", [padding.0, padding.1, padding.0, padding.1])], name: name)
        return relu ? b.node("Relu", [y], name: name + ".relu") : y
    }

    static func conv(_ b: inout ONNXGraphBuilder, _ x: String, _ c: Conv2D, folding bn: BatchNorm?, name: String, relu: Bool) throws -> String {
        guard c.dilation == (1, 1), c.groups == 1 else { throw ONNXExportError("\(name): dilated or grouped convolutions are not mapped") }
        if let bn {
            let f = FoldedConvolution(c, bn)
            return conv(&b, x, weight: f.weight, bias: f.bias, stride: c.stride, padding: c.padding, name: name, relu: relu)
        }
        return conv(&b, x, weight: c.weight, bias: c.bias, stride: c.stride, padding: c.padding, name: name, relu: relu)
    }

    static func doubleConv(_ b: inout ONNXGraphBuilder, _ x: String, _ block: DoubleConv, name: String) throws -> String {
        if block.norm1 != nil && !(block.norm1 is BatchNorm) {
            throw ONNXExportError("\(name): group or instance normalisation is not mapped (batch norm and none are)")
        }
        let h = try conv(&b, x, block.conv1, folding: block.norm1 as? BatchNorm, name: name + ".conv1", relu: true)
        return try conv(&b, h, block.conv2, folding: block.norm2 as? BatchNorm, name: name + ".conv2", relu: true)
    }

    /// The U-Net's logits, as `UNet.features` computes them in evaluation mode (dropout is the identity).
    static func emitUNet(_ net: UNet, input: String, prefix: String, _ b: inout ONNXGraphBuilder) throws -> String {
        let depth = net.config.depth
        var skips: [String] = []
        var h = input
        for (i, block) in net.encoder.enumerated() {
            h = try doubleConv(&b, h, block, name: "\(prefix).enc.\(i)")
            if i < depth {
                skips.append(h)
                h = b.node("MaxPool", [h], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])], name: "\(prefix).pool.\(i)")
            }
        }
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let step = net.up[i], name = "\(prefix).up.\(i)"
            let u: String
            switch step.mode {
            case .transposed:
                let t = step.transposed!
                guard t.groups == 1, t.padding == (0, 0), t.outputPadding == (0, 0) else { throw ONNXExportError("\(name): transposed convolution with padding or groups is not mapped") }
                let s = t.weight.shape
                var inputs = [h, b.weight(name + ".weight", t.weight.plain().scalars, dims: s)]
                if let bias = t.bias { inputs.append(b.weight(name + ".bias", bias.plain().scalars, dims: [s[1]])) }
                u = b.node("ConvTranspose", inputs, [.ints("kernel_shape", [s[2], s[3]]), .ints("strides", [t.stride.0, t.stride.1])], name: name)
            case .nearest, .bilinear:
                let scales = b.constant(name + ".scales", [1, 1, 2, 2], dims: [4])
                let attributes: [ONNXAttribute] = step.mode == .nearest
                    ? [.init("mode", .string("nearest")), .init("coordinate_transformation_mode", .string("asymmetric")), .init("nearest_mode", .string("floor"))]
                    : [.init("mode", .string("linear")), .init("coordinate_transformation_mode", .string("half_pixel"))]
                let up = b.node("Resize", [h, "", scales], attributes, name: name + ".resize")
                u = try conv(&b, up, step.conv!, folding: nil, name: name + ".conv", relu: false)
            }
            var skip = skips[i]
            if !net.gates.isEmpty {
                let g = net.gates[i], gname = "\(prefix).gate.\(i)"
                let wx = try conv(&b, skip, g.wx, folding: nil, name: gname + ".wx", relu: false)
                let wg = try conv(&b, u, g.wg, folding: nil, name: gname + ".wg", relu: false)
                let sum = b.node("Add", [wx, wg], name: gname + ".add")
                let r = b.node("Relu", [sum], name: gname + ".relu")
                let psi = try conv(&b, r, g.psi, folding: nil, name: gname + ".psi", relu: false)
                let alpha = b.node("Sigmoid", [psi], name: gname + ".alpha")
                skip = b.node("Mul", [skip, alpha], name: gname + ".gated")
            }
            let cat = b.node("Concat", [skip, u], [.int("axis", 1)], name: "\(prefix).cat.\(i)")
            h = try doubleConv(&b, cat, net.decoder[i], name: "\(prefix).dec.\(i)")
        }
        return try conv(&b, h, net.head, folding: nil, name: "\(prefix).head", relu: false)
    }

    /// A ResNet classifier's logits (evaluation mode: batch norm folded, dropout the identity).
    static func emitResNet(_ net: ResNet, input: String, _ b: inout ONNXGraphBuilder) throws -> String {
        var h = try conv(&b, input, net.conv1, folding: net.bn1, name: "conv1", relu: true)
        h = b.node("MaxPool", [h], [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1])], name: "maxpool")
        for (s, layer) in net.layers.enumerated() {
            for (k, block) in layer.layers.enumerated() {
                let name = "layer\(s + 1).\(k)"
                var body: String, downsample: Sequential?
                if let block = block as? BasicBlock {
                    body = try conv(&b, h, block.conv1, folding: block.bn1, name: name + ".conv1", relu: true)
                    body = try conv(&b, body, block.conv2, folding: block.bn2, name: name + ".conv2", relu: false)
                    downsample = block.downsample
                } else if let block = block as? Bottleneck {
                    body = try conv(&b, h, block.conv1, folding: block.bn1, name: name + ".conv1", relu: true)
                    body = try conv(&b, body, block.conv2, folding: block.bn2, name: name + ".conv2", relu: true)
                    body = try conv(&b, body, block.conv3, folding: block.bn3, name: name + ".conv3", relu: false)
                    downsample = block.downsample
                } else { throw ONNXExportError("\(name): an unknown ResNet block") }
                var skip = h
                if let downsample {
                    guard let c = downsample.layers.first as? Conv2D, let bn = downsample.layers.last as? BatchNorm else {
                        throw ONNXExportError("\(name): an unknown downsample path")
                    }
                    skip = try conv(&b, h, c, folding: bn, name: name + ".downsample", relu: false)
                }
                let sum = b.node("Add", [body, skip], name: name + ".add")
                h = b.node("Relu", [sum], name: name + ".relu")
            }
        }
        let avg = b.node("GlobalAveragePool", [h], name: "avgpool")
        let pooled = b.node("Flatten", [avg], [.int("axis", 1)], name: "flatten")
        let fc = net.fc!
        var inputs = [pooled, b.weight("fc.weight", fc.weight.plain().scalars, dims: fc.weight.shape)]
        if let bias = fc.bias { inputs.append(b.weight("fc.bias", bias.plain().scalars, dims: [fc.weight.shape[0]])) }
        return b.node("Gemm", inputs, [.int("transB", 1)], name: "logits")
    }
}
