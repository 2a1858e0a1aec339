import SonoBase
// Shared by every test target: test targets cannot import each other, so the helpers live in this small
// support target.
import XCTest
import SonoTensor

/// Checks an op's analytic gradient against central finite differences.
///
/// The op's output is projected onto a fixed random direction R (loss = Σ out·R, summed in Double), so every
/// output element contributes. For up to `samples` elements of each input, (L(x+h) − L(x−h)) / 2h is computed
/// in Double from Float32 forward passes and compared with the tape's gradient.
public func checkGradients(_ inputs: [Tensor], samples: Int = 24, h: Float = 1e-2, tolerance: Double = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    for t in inputs { t.requiresGrad = true; t.grad = nil }
    let out = f(inputs)
    var rng = SplitMix64(seed: 7)
    let r = (0..<out.count).map { _ in Double(rng.uniform() * 2 - 1) }
    func loss(_ o: Tensor) -> Double { zip(o.scalars, r).reduce(0) { $0 + Double($1.0) * $1.1 } }
    let seed = Tensor(r.map(Float.init), shape: out.shape)
    out.backward(seed: seed)
    for (i, t) in inputs.enumerated() {
        guard let grad = t.grad?.scalars else { XCTFail("input \(i) got no gradient", file: file, line: line); continue }
        let plain = t.layout == .plain
        let n = t.count
        let stride = max(1, n / samples)
        for j in Swift.stride(from: 0, to: n, by: stride) {
            // perturb the logical element j, whatever the physical layout
            let values = t.scalars
            func eval(_ delta: Float) -> Double {
                var v = values
                v[j] += delta
                let moved = Tensor(v, shape: t.shape).storage(in: t.layout)
                var args = inputs
                args[i] = moved
                return noGrad { loss(f(args)) }
            }
            let numeric = (eval(h) - eval(-h)) / Double(2 * h)
            let analytic = Double(grad[j])
            let scale = max(1, abs(numeric), abs(analytic))
            XCTAssertLessThanOrEqual(abs(numeric - analytic) / scale, tolerance,
                "input \(i) (\(t.shape), \(plain ? "plain" : "blocked")) element \(j): numeric \(numeric) vs analytic \(analytic)",
                file: file, line: line)
        }
    }
}

/// Test data from the library's SplitMix64, so the same seed always gives the same tensors.
extension SplitMix64 {
    public mutating func tensor(_ shape: [Int], lo: Float = -1, hi: Float = 1) -> Tensor {
        Tensor((0..<shape.reduce(1, *)).map { _ in lo + (hi - lo) * uniform() }, shape: shape)
    }
}
