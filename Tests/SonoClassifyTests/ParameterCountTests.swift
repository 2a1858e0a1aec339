import SonoBase
import XCTest
import SonoPipeline
import SonoModels

/// Parameter counts and names against torchvision. References (torchvision.models, 3 input channels,
/// 1000 classes, `sum(p.numel() for p in m.parameters())`): resnet18 11,689,512; resnet34 21,797,672;
/// resnet50 25,557,032; vgg16 138,357,544; vgg16_bn 138,365,992. Models are only built, never run at 224.
final class ParameterCountTests: XCTestCase {
    func resnet(_ depth: ResNetConfig.Depth) -> ResNet {
        var rng = RandomGenerator(seed: 0)
        return ResNet(ResNetConfig(depth: depth, inputChannels: 3, classes: 1000), rng: &rng)
    }

    func testResNetCountsMatchTorchvision() {
        XCTAssertEqual(resnet(.resnet18).parameterCount, 11_689_512)
        XCTAssertEqual(resnet(.resnet34).parameterCount, 21_797_672)
        XCTAssertEqual(resnet(.resnet50).parameterCount, 25_557_032)
    }

    func testVGG16CountsMatchTorchvision() {
        var rng = RandomGenerator(seed: 0)
        var c = VGGConfig()
        (c.inputChannels, c.classes) = (3, 1000)
        XCTAssertEqual(VGG(c, rng: &rng).parameterCount, 138_357_544)
        c.batchNorm = true
        XCTAssertEqual(VGG(c, rng: &rng).parameterCount, 138_365_992)
    }

    func testNamesFollowTorchvision() {
        let r = Set(resnet(.resnet50).stateDict().map(\.0))
        for key in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.0.downsample.0.weight",
                    "layer1.0.downsample.1.bias", "layer2.3.bn3.running_var", "layer4.2.conv3.weight", "fc.weight", "fc.bias"] {
            XCTAssertTrue(r.contains(key), key)
        }
        XCTAssertFalse(r.contains("layer1.1.downsample.0.weight"))
        let r18 = Set(resnet(.resnet18).stateDict().map(\.0))
        XCTAssertTrue(r18.contains("layer2.0.downsample.0.weight") && !r18.contains("layer1.0.downsample.0.weight") && !r18.contains("layer1.0.conv3.weight"))

        var rng = RandomGenerator(seed: 0)
        var v = VGGConfig(); (v.widthDivisor, v.pooledSize, v.hidden) = (16, 1, 8)
        let vgg = Set(VGG(v, rng: &rng).namedParameters().map(\.0))
        XCTAssertEqual(vgg, Set(["features.0", "features.2", "features.5", "features.7", "features.10", "features.12", "features.14",
                                 "features.17", "features.19", "features.21", "features.24", "features.26", "features.28",
                                 "classifier.0", "classifier.3", "classifier.6"].flatMap { [$0 + ".weight", $0 + ".bias"] }))

        let vit = Set(VisionTransformer(ViTConfig(), rng: &rng).namedParameters().map(\.0))
        for key in ["class_token", "conv_proj.weight", "encoder.pos_embedding", "encoder.layers.encoder_layer_0.ln_1.weight",
                    "encoder.layers.encoder_layer_0.self_attention.in_proj_weight", "encoder.layers.encoder_layer_3.self_attention.out_proj.bias",
                    "encoder.layers.encoder_layer_1.mlp.0.weight", "encoder.layers.encoder_layer_1.mlp.3.bias", "encoder.ln.bias", "heads.head.weight"] {
            XCTAssertTrue(vit.contains(key), key)
        }
    }

    /// ViT-B/16 (torchvision vit_b_16, 3 channels, 1000 classes) has 86,567,656 parameters.
    func testViTB16Count() {
        var c = ViTConfig()
        (c.inputChannels, c.classes, c.imageSize, c.patchSize, c.dim, c.depth, c.heads, c.mlpDim) = (3, 1000, 224, 16, 768, 12, 12, 3072)
        var rng = RandomGenerator(seed: 0)
        XCTAssertEqual(VisionTransformer(c, rng: &rng).parameterCount, 86_567_656)
    }
}
