import SonoConvNets
import Foundation
import SonoMetrics
import SonoPipeline
import SonoImaging

/// What a segmenter's probability map says about whether there is a lesion at all. A lesion image gives one
/// confident, compact region; a normal image gives faint or scattered responses.
public struct PresenceFeatures: Codable, Sendable, Equatable {
    /// Highest pixel probability.
    public var maxProbability: Double
    /// Mean probability inside the largest thresholded region (0 when there is none).
    public var largestMeanProbability: Double
    /// log10 of the largest region's area as a fraction of the image (−5 when there is none).
    public var logLargestAreaFraction: Double
    /// Share of the thresholded pixels that the largest region holds (1: one region; 0: none).
    public var largestShare: Double
    /// Logit of the presence classifier's P(lesion), when the bundle has one: a whole-image classifier, or a
    /// lesion-crop one reading the window around the segmenter's region (`sonoseg dataset candidates`).
    public var classifierLogit: Double? = nil

    public static let names = ["maxProbability", "largestMeanProbability", "logLargestAreaFraction", "largestShare"]
    public static let classifierName = "classifierLogit"

    public init(probability: GrayImage, threshold: Float) {
        let all = Mask(width: probability.width, height: probability.height, pixels: probability.pixels.map { $0 >= threshold ? 1 : 0 })
        let largest = all.largestComponent()
        let inside = zip(probability.pixels, largest.pixels).filter { $0.1 != 0 }.map { Double($0.0) }
        let (a, total) = (largest.area, all.area)
        maxProbability = Double(probability.pixels.max() ?? 0)
        largestMeanProbability = inside.isEmpty ? 0 : inside.reduce(0, +) / Double(inside.count)
        logLargestAreaFraction = a == 0 ? -5 : log10(Double(a) / Double(max(1, probability.pixels.count)))
        largestShare = total == 0 ? 0 : Double(a) / Double(total)
    }

    /// The features of one image: its segmenter map's, plus the logit of `classifier`'s P(lesion) when given (a
    /// normal/lesion model of the whole frame, or of the window around `region`, the mask `segment` makes).
    public init(image: GrayImage, probability: GrayImage, threshold: Float, region: Mask, classifier: LoadedModel?) throws {
        self.init(probability: probability, threshold: threshold)
        if let classifier, let lesion = classifier.classNames?.firstIndex(of: "lesion") {
            classifierLogit = Self.logit(try classifier.classify(image: image, lesion: region)[lesion])
        }
    }

    /// The values of `names` (from `names` and `classifierName`), in that order; nil for an unknown name or a
    /// classifier logit this image has not got.
    public func vector(_ names: [String]) -> [Double]? {
        var out = [Double]()
        for name in names {
            switch name {
            case "maxProbability": out.append(maxProbability)
            case "largestMeanProbability": out.append(largestMeanProbability)
            case "logLargestAreaFraction": out.append(logLargestAreaFraction)
            case "largestShare": out.append(largestShare)
            case Self.classifierName: guard let c = classifierLogit else { return nil }; out.append(c)
            default: return nil
            }
        }
        return out
    }

    /// The logit of a probability, clipped so a certain classifier stays finite.
    public static func logit(_ p: Float) -> Double {
        let q = min(max(Double(p), 1e-6), 1 - 1e-6)
        return log(q / (1 - q))
    }
}

/// Which measurements the presence regression reads. The segmenter's map says "a confident compact region"; on
/// another scanner's normal tissue (a fat lobule, a duct) it says so too, which is why the classifier's logit
/// can be used alone (`sonoseg diagnosis fit` with `presenceInputs`, chosen by leave-one-dataset-out).
public enum PresenceInputs: String, Codable, Sendable, CaseIterable {
    /// The four map features and, when the bundle has one, the presence classifier's logit.
    case mapAndClassifier
    /// The presence classifier's logit alone (Platt scaling of one network).
    case classifier
    /// The four map features alone.
    case map

    public func featureNames(hasClassifier: Bool) -> [String] {
        switch self {
        case .mapAndClassifier: return PresenceFeatures.names + (hasClassifier ? [PresenceFeatures.classifierName] : [])
        case .classifier: return [PresenceFeatures.classifierName]
        case .map: return PresenceFeatures.names
        }
    }
}

/// Logistic regression on `PresenceFeatures`: P(lesion) = σ(w · (x − μ) / σ + b), fitted by Newton's method on
/// the log-likelihood with a small ridge, so its output is a calibrated probability on the data it was fitted
/// to. `threshold` is the probability above which an image is called a lesion image.
public struct PresenceModel: Codable, Sendable, Equatable {
    public var featureNames = PresenceFeatures.names
    public var mean: [Double]
    public var scale: [Double]
    public var weights: [Double]
    public var bias: Double
    public var threshold: Double

    /// P(lesion). `f` must have every feature the model reads (a bundle with a classifier logit among its
    /// features is loaded with its classifier, so the logit is there).
    public func probability(_ f: PresenceFeatures) -> Double {
        var z = bias
        guard let x = f.vector(featureNames) else { preconditionFailure("presence features lack one of \(featureNames)") }
        for (i, v) in x.enumerated() { z += weights[i] * (v - mean[i]) / scale[i] }
        return 1 / (1 + exp(-z))
    }

    /// Fits the regression of `names` (default: every feature the images have) to `features` with `labels`
    /// (true: lesion). The threshold starts at 0.5.
    public static func fit(_ features: [PresenceFeatures], labels: [Bool], names: [String]? = nil, ridge: Double = 1e-2) -> PresenceModel {
        let names = names ?? PresenceInputs.mapAndClassifier.featureNames(hasClassifier: features.first?.classifierLogit != nil)
        let rows = features.map { f -> [Double] in
            guard let x = f.vector(names) else { preconditionFailure("presence features lack one of \(names)") }
            return x
        }
        let r = LogisticRegression.fit(rows, labels: labels, ridge: ridge)
        var model = PresenceModel(mean: r.mean, scale: r.scale, weights: r.weights, bias: r.bias, threshold: 0.5)
        model.featureNames = names
        return model
    }

    /// The highest threshold at which at least `sensitivity` of the lesion images are called lesions.
    public static func threshold(probabilities: [Double], labels: [Bool], sensitivity: Double) -> Double {
        let positives = zip(probabilities, labels).filter(\.1).map(\.0).sorted()
        guard !positives.isEmpty else { return 0.5 }
        let allowedMisses = Int((Double(positives.count) * (1 - sensitivity)).rounded(.down))
        return positives[allowedMisses]
    }
}

/// P(y) = σ(w · (x − μ) / σ + b) on standardised features, fitted by Newton's method on the log-likelihood with a
/// small ridge.
public struct LogisticRegression: Codable, Sendable, Equatable {
    public var mean: [Double]
    public var scale: [Double]
    public var weights: [Double]
    public var bias: Double

    public func probability(_ x: [Double]) -> Double {
        var z = bias
        for (i, v) in x.enumerated() { z += weights[i] * (v - mean[i]) / scale[i] }
        return 1 / (1 + exp(-z))
    }

    public static func fit(_ x: [[Double]], labels: [Bool], ridge: Double = 1e-2) -> LogisticRegression {
        let d = x.first?.count ?? 0, n = Double(max(1, x.count))
        let mean = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / n }
        let scale = (0..<d).map { j in max(1e-6, sqrt(x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n)) }
        let z = x.map { row in [1.0] + (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
        var w = [Double](repeating: 0, count: d + 1)
        for _ in 0..<50 {
            var g = [Double](repeating: 0, count: d + 1)
            var h = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d + 1)
            for (row, y) in zip(z, labels) {
                let p = 1 / (1 + exp(-zip(w, row).reduce(0) { $0 + $1.0 * $1.1 }))
                for i in 0...d {
                    g[i] += (p - (y ? 1 : 0)) * row[i]
                    for j in 0...d { h[i][j] += p * (1 - p) * row[i] * row[j] }
                }
            }
            for i in stride(from: 1, through: d, by: 1) { g[i] += ridge * w[i]; h[i][i] += ridge }
            h[0][0] += 1e-9
            guard let step = solve(h, g) else { break }
            for i in 0...d { w[i] -= step[i] }
            if step.map(abs).max() ?? 0 < 1e-9 { break }
        }
        return LogisticRegression(mean: mean, scale: scale, weights: Array(w[1...]), bias: w[0])
    }
}

/// Gaussian elimination with partial pivoting; nil for a singular system.
private func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
    var m = a, v = b
    let n = v.count
    for c in 0..<n {
        guard let p = (c..<n).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[p][c]) > 1e-12 else { return nil }
        m.swapAt(c, p); v.swapAt(c, p)
        for r in (c + 1)..<n {
            let f = m[r][c] / m[c][c]
            for k in c..<n { m[r][k] -= f * m[c][k] }
            v[r] -= f * v[c]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for r in stride(from: n - 1, through: 0, by: -1) {
        x[r] = (v[r] - ((r + 1)..<n).reduce(0) { $0 + m[r][$1] * x[$1] }) / m[r][r]
    }
    return x
}
