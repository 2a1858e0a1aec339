import SonoBase
import SonoNN
import SonoTensor
/// Global average pooling → Linear → ReLU → Dropout → Linear: encoder map [N, C, h, w] → logits [N, classes].
/// Names `fc1`, `fc2`. With `hidden` 0 it is a single Linear (`fc2`).
public final class ClassificationHead: Layer {
    public let fc1: Linear?, dropout: Dropout, fc2: Linear
    public var isTraining = true

    public init(inputChannels: Int, hidden: Int, classes: Int, dropout p: Float, rng: inout RandomGenerator) {
        precondition(classes >= 2, "ClassificationHead: need at least two classes, got \(classes)")
        fc1 = hidden > 0 ? Linear(inputFeatures: inputChannels, outputFeatures: hidden, rng: &rng) : nil
        dropout = Dropout(p, rng: &rng)
        fc2 = Linear(inputFeatures: hidden > 0 ? hidden : inputChannels, outputFeatures: classes, rng: &rng)
    }

    public var children: [(String, Module)] { (fc1.map { [("fc1", $0 as Module)] } ?? []) + [("dropout", dropout), ("fc2", fc2)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "ClassificationHead: input \(x.shape) must be [N, C, h, w]")
        var h = x.globalAvgPool()
        if let fc1 { h = fc1(h).relu() }
        return fc2(dropout(h))
    }
}
