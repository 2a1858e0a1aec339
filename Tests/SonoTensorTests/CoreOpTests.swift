import XCTest
import SonoTestSupport
@testable import SonoTensor
import SonoKernels

final class CoreOpTests: XCTestCase {
    var rng = SplitMix64(seed: 1)

    func testArithmeticBroadcastGradients() {
        checkGradients([rng.tensor([3, 4]), rng.tensor([4])]) { $0[0] * $0[1] + $0[1] }
        checkGradients([rng.tensor([2, 3, 4]), rng.tensor([3, 1], lo: 0.5, hi: 2)]) { $0[0] / $0[1] - $0[1] }
    }

    func testUnaryGradients() {
        let x = rng.tensor([5, 7])
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].exp() }
        checkGradients([x]) { $0[0].sin() }
        checkGradients([x]) { $0[0].cos() }
        checkGradients([x]) { $0[0].gelu() }
        checkGradients([awayFromZero(x)]) { $0[0].leakyRelu(0.1) }
        checkGradients([awayFromZero(x)]) { $0[0].relu() }
        checkGradients([awayFromZero(x)]) { $0[0].abs() }
        checkGradients([awayFromZero(x)]) { $0[0].clamped(-0.5, 0.5) }
        checkGradients([x], h: 1e-3) { $0[0].gabor(omega: 3, scale: 2) }
        checkGradients([x]) { $0[0].pow(3) }
        let p = rng.tensor([4, 6], lo: 0.5, hi: 2)
        checkGradients([p]) { $0[0].log() }
        checkGradients([p]) { $0[0].sqrt() }
        checkGradients([p]) { $0[0].pow(1.5) }
    }

    func testVectorMathMatchesFoundation() {
        let xs = (0..<4096).map { Float($0) / 4096 * 40 - 20 }
        let t = Tensor(xs, shape: [xs.count])
        let s = noGrad { t.sin().scalars }, c = noGrad { t.cos().scalars }, e = noGrad { t.exp().scalars }
        for (i, x) in xs.enumerated() {
            XCTAssertEqual(s[i], Foundation.sin(x), accuracy: 2e-6)
            XCTAssertEqual(c[i], Foundation.cos(x), accuracy: 2e-6)
            XCTAssertEqual(e[i], Foundation.exp(x), accuracy: Foundation.exp(x) * 3e-7)
        }
        let pos = Tensor(xs.map { Foundation.exp($0 / 4) }, shape: [xs.count])
        let l = noGrad { pos.log().scalars }
        for (i, v) in pos.scalars.enumerated() { XCTAssertEqual(l[i], Foundation.log(v), accuracy: 3e-6) }
    }

    func testReductionsAndShapes() {
        let x = rng.tensor([2, 3, 4])
        checkGradients([x]) { $0[0].sum(axes: [1]) }
        checkGradients([x]) { $0[0].mean(axes: [0, 2], keepDims: true) }
        checkGradients([x]) { $0[0].max(axis: 2) }
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].slice(axis: 2, 1..<3) }
        checkGradients([x, rng.tensor([2, 1, 4])]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        checkGradients([x]) { $0[0].reshaped([6, -1]).sum().reshaped([1]) }
        XCTAssertEqual(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).permuted([1, 0]).scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).sum(axes: [0]).scalars, [5, 7, 9])
    }

    func testMatmulAndLinearGradients() {
        checkGradients([rng.tensor([3, 5]), rng.tensor([5, 4])]) { $0[0].matmul($0[1]) }
        checkGradients([rng.tensor([2, 3, 5]), rng.tensor([2, 5, 4])]) { $0[0].matmul($0[1]) }
        checkGradients([rng.tensor([6, 5]), rng.tensor([4, 5]), rng.tensor([4])]) { $0[0].linear($0[1], bias: $0[2]) }
    }

    func testConvGradientsPlainAndBlocked() {
        // 3 → 16 channels: output blocked; 16 → 16: both blocked; groups and dilation on plain.
        checkGradients([rng.tensor([2, 3, 6, 6]), rng.tensor([16, 3, 3, 3]), rng.tensor([16])], samples: 10) {
            $0[0].conv2d($0[1], bias: $0[2], padding: (1, 1))
        }
        checkGradients([rng.tensor([1, 4, 7, 7]), rng.tensor([6, 2, 3, 3])], samples: 10) {
            $0[0].conv2d($0[1], padding: (2, 2), dilation: (2, 2), groups: 2)
        }
        // blocked inputs of both widths: the native one runs as is, the other converts
        for layout in [Layout.blocked(8), .blocked(16)] {
            let xb = rng.tensor([1, 16, 5, 5]).contiguous(layout)
            checkGradients([xb, rng.tensor([16, 16, 3, 3])], samples: 10) { $0[0].conv2d($0[1], stride: (2, 2), padding: (1, 1)) }
            // segmentation head: blocked features → one plain channel through the pointwise kernel
            let features = rng.tensor([2, 32, 4, 5]).contiguous(layout)
            checkGradients([features, rng.tensor([1, 32, 1, 1]), rng.tensor([1])], samples: 10) { $0[0].conv2d($0[1], bias: $0[2]) }
            checkGradients([features, rng.tensor([3, 32, 1, 1])], samples: 10) { $0[0].conv2d($0[1]) }
            let viaPlain = noGrad { features.plain().conv2d(Tensor.ones([1, 32, 1, 1])).scalars }
            let viaBlocked = noGrad { features.conv2d(Tensor.ones([1, 32, 1, 1])).scalars }
            for (a, b) in zip(viaPlain, viaBlocked) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            checkGradients([xb, rng.tensor([16, 16, 2, 2]), rng.tensor([16])], samples: 10) {
                $0[0].convTranspose2d($0[1], bias: $0[2], stride: (2, 2))
            }
        }
    }

    /// 3x3 stride-1 convolutions between blocked activations run oneDNN's Winograd kernel (forward and
    /// backward-data) where it has one (AVX-512), its direct kernel elsewhere: check the native layout's result
    /// against a direct sum in Double, and its gradients by finite differences.
    func testWinogradConvolutionMatchesDirectSum() {
        let (n, c, o, h, w) = (2, 16, 32, 9, 7)
        let native = Layout.preferred(for: [n, c, h, w])
        let x = rng.tensor([n, c, h, w]).contiguous(native), k = rng.tensor([o, c, 3, 3]), b = rng.tensor([o])
        let y = noGrad { x.conv2d(k, bias: b, padding: (1, 1)) }
        XCTAssertEqual(y.layout, native)
        let (xs, ks, bs, ys) = (x.scalars, k.scalars, b.scalars, y.scalars)
        var worst = 0.0
        for i in 0..<n { for oc in 0..<o { for r in 0..<h { for q in 0..<w {
            var sum = Double(bs[oc])
            for ic in 0..<c { for dr in 0..<3 { for dq in 0..<3 {
                let (rr, qq) = (r + dr - 1, q + dq - 1)
                guard rr >= 0, rr < h, qq >= 0, qq < w else { continue }
                sum += Double(xs[((i * c + ic) * h + rr) * w + qq]) * Double(ks[((oc * c + ic) * 3 + dr) * 3 + dq])
            } } }
            worst = max(worst, abs(sum - Double(ys[((i * o + oc) * h + r) * w + q])))
        } } } }
        XCTAssertLessThan(worst, 1e-4)
        checkGradients([x, k], samples: 10) { $0[0].conv2d($0[1], padding: (1, 1)) }
    }

    /// At inference a 2x2 stride-2 transposed convolution of blocked features runs as a 1x1 convolution to 4·O
    /// channels and a depth-to-space copy: the same values as the recorded (training) path, for fresh weights
    /// (`noGrad`) and for constant ones whose rearranged copy is cached (`GradMode.inference`), with and without
    /// bias.
    func testInferenceUpsamplingMatchesTheTransposedConvolution() {
        let layout = Layout.preferred(for: [1, 32, 1, 1])
        guard layout.isBlocked else { return }   // plain CPUs keep oneDNN's transposed convolution
        let x = rng.tensor([2, 32, 5, 3]).contiguous(layout), k = rng.tensor([32, 16, 2, 2]), b = rng.tensor([16])
        for bias in [b, nil] as [Tensor?] {
            let recorded = x.detached(), weight = k.detached()
            recorded.requiresGrad = true
            let reference = recorded.convTranspose2d(weight, bias: bias, stride: (2, 2))
            XCTAssertEqual(reference.shape, [2, 16, 10, 6])
            let fresh = noGrad { x.convTranspose2d(weight, bias: bias, stride: (2, 2)) }
            let cached = GradMode.inference { x.convTranspose2d(weight, bias: bias, stride: (2, 2)) }
            let again = GradMode.inference { x.convTranspose2d(weight, bias: bias, stride: (2, 2)) }
            XCTAssertEqual(fresh.layout, layout)
            for out in [fresh, cached, again] {
                for (u, v) in zip(out.scalars, reference.scalars) { XCTAssertEqual(u, v, accuracy: 1e-4) }
            }
        }
    }

    /// ReLU applied inside the convolution kernel: same values and gradients as conv followed by relu().
    func testConvWithFusedReLU() {
        for layout in [Layout.blocked(8), .blocked(16)] {
            let x = rng.tensor([1, 16, 6, 6]).contiguous(layout), k = rng.tensor([16, 16, 3, 3]), b = rng.tensor([16])
            let fused = noGrad { x.conv2d(k, bias: b, padding: (1, 1), relu: true).scalars }
            let separate = noGrad { x.conv2d(k, bias: b, padding: (1, 1)).relu().scalars }
            XCTAssertTrue(fused.contains(0) && fused.contains { $0 > 0 })
            for (a, s) in zip(fused, separate) { XCTAssertEqual(a, s, accuracy: 1e-5) }
            checkGradients([x, k, b], samples: 10) { $0[0].conv2d($0[1], bias: $0[2], padding: (1, 1), relu: true) }
            // a plain 1x1 head with relu takes the pointwise path
            checkGradients([x, rng.tensor([2, 16, 1, 1])], samples: 10) { $0[0].conv2d($0[1], relu: true) }
        }
    }

    func testPoolingResampleBatchNormGradients() {
        for layout in [Layout.plain, .blocked(8), .blocked(16)] {
            let x = rng.tensor([2, 16, 6, 6]).contiguous(layout)
            // distinct values 0.01 apart and a smaller step, so no perturbation swaps a window's maximum
            var order = Array(0..<x.count)
            for i in order.indices.reversed() { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let distinct = Tensor(order.map { Float($0) * 0.01 - 5 }, shape: x.shape).contiguous(layout)
            checkGradients([distinct], samples: 12, h: 1e-3) { $0[0].maxPool2d(kernel: (2, 2)) }
            checkGradients([x], samples: 12) { $0[0].avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)) }
            checkGradients([x], samples: 12) { $0[0].upsampled(by: 2, mode: .bilinear) }
            checkGradients([x], samples: 12) { $0[0].upsampled(by: 2, mode: .nearest) }
            checkGradients([x, rng.tensor([16], lo: 0.5, hi: 1.5), rng.tensor([16])], samples: 12, h: 1e-2, tolerance: 5e-2) {
                $0[0].batchNorm(scale: $0[1], shift: $0[2]).output
            }
            checkGradients([awayFromZero(x).contiguous(layout)]) { $0[0].relu() * $0[0] }
            // fused batch norm + ReLU equals the two ops, and its gradient checks out
            let scale = rng.tensor([16], lo: 0.5, hi: 1.5), shift = rng.tensor([16])
            let fused = noGrad { x.batchNorm(scale: scale, shift: shift, fuseReLU: true).output.scalars }
            let separate = noGrad { x.batchNorm(scale: scale, shift: shift).output.relu().scalars }
            for (a, b) in zip(fused, separate) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            // Finite differences straddle the ReLU kink when scale or shift move, so the fused gradients are
            // compared with those of the separate ops (themselves checked above), in training and eval mode.
            let rm = rng.tensor([16]), rv = rng.tensor([16], lo: 0.5, hi: 2)
            for running in [nil, (rm, rv)] as [(Tensor, Tensor)?] {
                func grads(_ fuse: Bool) -> [[Float]] {
                    let inputs = [x.detached(), scale.detached(), shift.detached()]
                    for t in inputs { t.requiresGrad = true }
                    let r = running.map { (mean: $0.0, variance: $0.1) }
                    let y = fuse ? inputs[0].batchNorm(scale: inputs[1], shift: inputs[2], running: r, fuseReLU: true).output
                                 : inputs[0].batchNorm(scale: inputs[1], shift: inputs[2], running: r).output.relu()
                    (y * y).sum().backward()
                    return inputs.map { $0.grad!.scalars }
                }
                for (a, b) in zip(grads(true), grads(false)) {
                    for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-3 * max(1, Swift.abs(v))) }
                }
            }
        }
    }

    func testBlockedLayoutRoundTrip() {
        let x = rng.tensor([2, 32, 3, 5])
        for layout in [Layout.blocked(8), .blocked(16)] {
            let b = x.contiguous(layout)
            XCTAssertEqual(b.layout, layout)
            XCTAssertEqual(b.scalars, x.scalars)
            XCTAssertNotEqual(Array(UnsafeBufferPointer(start: b.ptr, count: b.count)), x.scalars)
            // element (n, c, h, w) at ((n·C/b + c/b)·H·W + h·W + w)·b + c % b
            let (n, c, h, w) = (1, 19, 2, 3), width = layout.blockWidth!
            XCTAssertEqual(b.ptr[((n * 32 / width + c / width) * 15 + h * 5 + w) * width + c % width],
                           x.scalars[((n * 32 + c) * 3 + h) * 5 + w])
        }
        // 8- and 16-wide blocks of the same tensor convert into each other through the tensor's values
        XCTAssertEqual(x.contiguous(.blocked(8)).contiguous(.blocked(16)).scalars, x.scalars)
    }

    /// Tensors of the two block widths meet in element-wise ops, concat and convolutions with correct values,
    /// whichever width this CPU runs natively.
    func testMixedBlockWidthsGiveTheSameValues() {
        let a = rng.tensor([1, 16, 4, 4]), b = rng.tensor([1, 16, 4, 4]), k = rng.tensor([8, 16, 3, 3])
        let expected = noGrad { (a + b).scalars }
        XCTAssertEqual(noGrad { (a.contiguous(.blocked(8)) + b.contiguous(.blocked(16))).scalars }, expected)
        XCTAssertEqual(noGrad { Tensor.concat([a.contiguous(.blocked(8)), b.contiguous(.blocked(16))], axis: 1).scalars },
                       noGrad { Tensor.concat([a, b], axis: 1).scalars })
        let direct = noGrad { a.conv2d(k, padding: (1, 1)).scalars }
        for layout in [Layout.blocked(8), .blocked(16)] {
            let y = noGrad { a.contiguous(layout).conv2d(k, padding: (1, 1)).scalars }
            for (u, v) in zip(y, direct) { XCTAssertEqual(u, v, accuracy: 1e-4) }
        }
    }
}

import Foundation
import SonoBase

/// Moves values at least 0.05 away from 0 (and from ±0.5) so finite differences do not straddle a kink.
func awayFromZero(_ t: Tensor) -> Tensor {
    Tensor(t.scalars.map { v in
        var v = v >= 0 ? v + 0.05 : v - 0.05
        if Swift.abs(Swift.abs(v) - 0.5) < 0.05 { v *= 1.2 }
        return v
    }, shape: t.shape)
}
