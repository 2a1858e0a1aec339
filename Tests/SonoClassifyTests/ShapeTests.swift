import SonoBase
import XCTest
import SonoPipeline
import SonoModels
import SonoTensor

/// Output shapes of every backbone at small inputs.
final class ShapeTests: XCTestCase {
    func testResNetOutputsAndFeatures() {
        for depth in ResNetConfig.Depth.allCases {
            var rng = RandomGenerator(seed: 1)
            let net = ResNet(ResNetConfig(depth: depth, inputChannels: 1, classes: 3, baseWidth: 8), rng: &rng)
            let x = Tensor.normal([2, 1, 64, 64], rng: &rng)
            XCTAssertEqual(net(x).shape, [2, 3], "\(depth)")
            let f = net.features(x)
            let e = depth == .resnet50 ? 4 : 1
            XCTAssertEqual(f.stem.shape, [2, 8, 32, 32])
            XCTAssertEqual(f.stages.map(\.shape), [[2, 8 * e, 16, 16], [2, 16 * e, 8, 8], [2, 32 * e, 4, 4], [2, 64 * e, 2, 2]], "\(depth)")
        }
    }

    func testVGGCNNAndViT() {
        var rng = RandomGenerator(seed: 2)
        var v = VGGConfig(); (v.widthDivisor, v.hidden, v.batchNorm) = (16, 16, true)
        let vgg = VGG(v, rng: &rng)   // pooledSize 7 on a 1x1 map replicates it, as adaptive pooling does
        let x = Tensor.normal([2, 1, 32, 32], rng: &rng)
        XCTAssertEqual(vgg(x).shape, [2, 3])
        XCTAssertEqual(vgg.encoderFeatures(x).map { $0.shape[2] }, [32, 16, 8, 4, 2, 1])

        let cnn = SimpleCNN(SimpleCNNConfig(), rng: &rng)
        XCTAssertEqual(cnn(x).shape, [2, 3])
        XCTAssertEqual(cnn.features(x).last!.shape, [2, 128, 2, 2])

        var c = ViTConfig(); (c.imageSize, c.dim, c.depth, c.mlpDim, c.classes) = (32, 32, 2, 64, 2)
        let vit = VisionTransformer(c, rng: &rng)
        XCTAssertEqual(vit.tokens(x).shape, [2, 17, 32])
        XCTAssertEqual(vit(x).shape, [2, 2])
    }

    func testSegmentersAndMultitaskHeads() {
        for kind in BackboneSegmenterConfig.Kind.allCases {
            var rng = RandomGenerator(seed: 3)
            var c = BackboneSegmenterConfig()
            c.kind = kind
            c.encoder = ResNetConfig(depth: .resnet18, inputChannels: 1, classes: 0, baseWidth: 8)
            (c.decoderChannels, c.headChannels, c.classificationClasses, c.classificationHidden) = ([32, 16, 16, 8, 8], 16, 3, 16)
            let net = makeBackboneSegmenter(c, rng: &rng)
            let o = net.forward(Tensor.normal([2, 1, 64, 96], rng: &rng))
            XCTAssertEqual(o.segmentation.shape, [2, 1, 64, 96], "\(kind)")
            XCTAssertEqual(o.classification?.shape, [2, 3], "\(kind)")
            c.classificationClasses = 0
            XCTAssertNil(makeBackboneSegmenter(c, rng: &rng).forward(Tensor.normal([1, 1, 32, 32], rng: &rng)).classification)
        }
    }
}
