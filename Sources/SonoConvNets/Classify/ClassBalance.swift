import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData

/// Class indices of samples against a class order; throws for a sample without a known class.
public func classLabels(_ samples: [Sample], classNames: [String]) throws -> [Int] {
    let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($0.element, $0.offset) })
    return try samples.map { s in
        guard let name = s.className, let i = index[name] else {
            throw PipelineError.invalidConfig("\(s.imageURL.path): class \(s.className.map { "'\($0)'" } ?? "missing") is not one of \(classNames); classification needs a dataset with classes (BUSI)")
        }
        return i
    }
}

/// Cross-entropy weights n / (k · n_c) (scikit-learn's "balanced"); a class with no images gets weight 0.
public func inverseFrequencyWeights(labels: [Int], classes: Int) -> [Float] {
    var counts = [Int](repeating: 0, count: classes)
    for l in labels { counts[l] += 1 }
    return counts.map { $0 == 0 ? 0 : Float(labels.count) / Float(classes * $0) }
}

/// The cross-entropy class weights a config asks for.
func classWeights(_ config: ClassifyConfig, labels: [Int], classes: Int) throws -> [Float]? {
    switch config.classWeighting {
    case .none: return nil
    case .inverseFrequency: return inverseFrequencyWeights(labels: labels, classes: classes)
    case .given:
        guard let w = config.classWeights, w.count == classes else {
            throw PipelineError.invalidConfig("classWeights has \(config.classWeights?.count ?? 0) entries for \(classes) classes")
        }
        return w
    }
}

/// A weighted sampler's epoch: `samples.count` draws with replacement, each class equally likely and each
/// image equally likely within its class. Depends only on (seed, epoch), so a resumed run draws the same.
public func balancedDraw(_ samples: [Sample], labels: [Int], classes: Int, seed: UInt64, epoch: Int) -> [Sample] {
    var byClass = [[Int]](repeating: [], count: classes)
    for (i, l) in labels.enumerated() { byClass[l].append(i) }
    let present = byClass.filter { !$0.isEmpty }
    guard !present.isEmpty else { return samples }
    var rng = RandomGenerator(seed: seed, stream: [0x4241_4C41, UInt64(epoch)])
    return (0..<samples.count).map { _ in
        let members = present[Int(rng.next() % UInt64(present.count))]
        return samples[members[Int(rng.next() % UInt64(members.count))]]
    }
}
