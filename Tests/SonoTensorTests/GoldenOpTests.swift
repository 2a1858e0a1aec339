import XCTest
import SonoTestSupport
@testable import SonoTensor
import SonoKernels

/// Forward values against PyTorch for the convolution-family ops, pooling, batch norm, resizing, softmax and
/// group/layer norm. Each 4-D case whose channels fill 8- or 16-wide blocks also runs with input in those blocked layouts
/// (both widths on every CPU: the one oneDNN runs natively here, the other through conversions).
final class GoldenOpTests: XCTestCase {
    func testOpsMatchPyTorch() throws {
        let golden = try GoldenFile.load("golden_ops", bundle: .module)
        XCTAssertGreaterThanOrEqual(golden.cases.count, 30, "golden_ops.json lost cases")
        var blockedRuns = 0
        for c in golden.cases {
            let x = c.input("x")
            var layouts: [Layout] = [.plain]
            for b in [8, 16] where Layout.blocked(b).holds(x.shape) { layouts.append(.blocked(b)); blockedRuns += 1 }
            for layout in layouts {
                let label = layout == .plain ? "" : " (\(layout))"
                let xin = x.contiguous(layout)
                noGrad { run(c, xin, label) }
            }
        }
        XCTAssertGreaterThanOrEqual(blockedRuns, 8, "too few cases exercise the blocked layout")
    }

    private func run(_ c: GoldenCase, _ x: Tensor, _ label: String) {
        switch c.op {
        case "conv2d":
            c.check("y", x.conv2d(c.input("weight"), bias: c.inputs["bias"]?.tensor, stride: c.pair("stride"),
                                  padding: c.pair("padding"), dilation: c.pair("dilation"), groups: c.int("groups")), label: label)
        case "conv_transpose2d":
            c.check("y", x.convTranspose2d(c.input("weight"), bias: c.inputs["bias"]?.tensor, stride: c.pair("stride"),
                                           padding: c.pair("padding"), outputPadding: c.pair("output_padding")), label: label)
        case "max_pool2d":
            c.check("y", x.maxPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding")), label: label)
        case "avg_pool2d":
            c.check("y", x.avgPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding"),
                                     countIncludePad: c.int("count_include_pad") == 1), label: label)
        case "batch_norm_train":
            let r = x.batchNorm(scale: c.input("weight"), shift: c.input("bias"), eps: c.float("eps"))
            c.check("y", r.output, label: label)
            c.check("mean", r.mean, label: label)
            c.check("var", r.variance, label: label)
        case "batch_norm_eval":
            let r = x.batchNorm(scale: c.input("weight"), shift: c.input("bias"), eps: c.float("eps"),
                                running: (c.input("running_mean"), c.input("running_var")))
            c.check("y", r.output, label: label)
        case "resize":
            c.check("y", x.resized(to: c.pair("size"), mode: c.int("mode") == 1 ? .bilinear : .nearest), label: label)
        case "softmax":
            c.check("y", x.softmax(axis: c.int("axis")), label: label)
        case "log_softmax":
            c.check("y", x.logSoftmax(axis: c.int("axis")), label: label)
        case "group_norm":
            c.check("y", x.groupNorm(groups: c.int("groups"), scale: c.input("weight"), shift: c.input("bias"), eps: c.float("eps")),
                    label: label)
        case "layer_norm":
            c.check("y", x.layerNorm(dims: c.int("dims"), scale: c.input("weight"), shift: c.input("bias"), eps: c.float("eps")),
                    label: label)
        default:
            XCTFail("\(c.name): unknown op \(c.op)")
        }
    }
}
