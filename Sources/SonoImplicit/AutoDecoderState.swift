import Foundation
import SonoPipeline
import SonoMetrics
import SonoModels
import SonoNN
import SonoTensor

/// What a training checkpoint holds besides the optimizer: the network and the training images' latent table
/// (none with an encoder).
final class AutoDecoderState: Module {
    let network: ImplicitNetwork
    let latents: EmbeddingTable?
    var isTraining = true
    init(network: ImplicitNetwork, latents: EmbeddingTable?) { (self.network, self.latents) = (network, latents) }
    var children: [(String, Module)] { [("net", network)] + (latents.map { [("latents", $0 as Module)] } ?? []) }
}

/// Adam on the network's weights and LazyAdam on the latent rows a step used, saved and restored as one
/// optimizer so `Checkpoint` writes both atomically with the weights.
final class AutoDecoderOptimizer: Optimizer {
    let adam = Adam()
    let lazy = LazyAdam()
    let table: EmbeddingTable?
    init(table: EmbeddingTable?) { self.table = table }

    func update(_ parameters: [(String, Tensor)], learningRate: Float) { adam.update(parameters, learningRate: learningRate) }
    func updateLatents(learningRate: Float) {
        if let table { lazy.update([("latents", table)], learningRate: learningRate) }
    }

    func state() -> [(String, Tensor)] {
        adam.state().map { ("adam." + $0.0, $0.1) } + lazy.state().map { ("lazy." + $0.0, $0.1) }
    }

    func load(state: [String: Tensor]) throws {
        var a: [String: Tensor] = [:], l: [String: Tensor] = [:]
        for (k, t) in state {
            if k.hasPrefix("adam.") { a[String(k.dropFirst(5))] = t }
            else if k.hasPrefix("lazy.") { l[String(k.dropFirst(5))] = t }
            else { throw OptimizerError.unexpectedStateKey(optimizer: "AutoDecoderOptimizer", key: k) }
        }
        try adam.load(state: a)
        lazy.load(state: l)
    }

    var hyperparameters: [String: Double] { adam.hyperparameters }
}
