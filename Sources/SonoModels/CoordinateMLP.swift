import SonoBase
import SonoNN
import SonoTensor
/// The coordinate MLP at the heart of NISF: [coordinates ‖ latent] → residual Gabor layers → two heads
/// (image intensity, mask logit). Points [P, coordinateDims], latent [1, latentDims] shared by all points.
public struct CoordinateMLPConfig: Codable, Hashable, Sendable {
    public var coordinateDims = 2
    public var latentDims = 128
    public var width = 128
    public var depth = 8
    /// WIRE's real Gabor wavelet cos(ω0 x)·exp(-(s0 x)²); ω0 sets the frequency, s0 the envelope width.
    public var omega: Float = 10
    public var scale: Float = 10
    public init() {}
}

public final class CoordinateMLP: Module {
    public let config: CoordinateMLPConfig
    public let input: Linear
    public let hidden: [Linear]
    public let intensity: Linear, mask: Linear
    public var isTraining = true

    public init(_ config: CoordinateMLPConfig, rng: inout RandomGenerator) {
        self.config = config
        input = Linear(inputFeatures: config.coordinateDims + config.latentDims, outputFeatures: config.width, rng: &rng)
        hidden = (0..<config.depth).map { _ in Linear(inputFeatures: config.width, outputFeatures: config.width, rng: &rng) }
        intensity = Linear(inputFeatures: config.width, outputFeatures: 1, rng: &rng)
        mask = Linear(inputFeatures: config.width, outputFeatures: 1, rng: &rng)
    }

    public var children: [(String, Module)] {
        [("inp", input)] + hidden.enumerated().map { ("hidden.\($0.offset)", $0.element as Module) } +
            [("intensity", intensity), ("mask", mask)]
    }

    /// coords [P, coordinateDims], latent [1, latentDims] → (intensity logits [P, 1], mask logits [P, 1]).
    public func callAsFunction(_ coords: Tensor, latent: Tensor) -> (intensity: Tensor, mask: Tensor) {
        precondition(coords.rank == 2 && coords.shape[1] == config.coordinateDims, "CoordinateMLP: coords \(coords.shape) should be [P, \(config.coordinateDims)]")
        precondition(latent.shape == [1, config.latentDims], "CoordinateMLP: latent \(latent.shape) should be [1, \(config.latentDims)]")
        let p = coords.shape[0]
        let (w0, s0) = (config.omega, config.scale)
        var h = input(Tensor.concat([coords, latent.broadcast(to: [p, config.latentDims])], axis: 1)).gabor(omega: w0, scale: s0)
        for layer in hidden { h = h + layer(h).gabor(omega: w0, scale: s0) }
        return (intensity(h), mask(h))
    }
}
