import Foundation
import SonoBase
import SonoImaging

/// Dataset statistics that preprocessing and model configuration are derived from (in the spirit of
/// nnU-Net's fingerprint). Intensities are on the decoded [0, 1] grey scale.
public struct DatasetFingerprint: Codable, Sendable {
    public struct Distribution: Codable, Sendable, Equatable {
        public var min: Double, p5: Double, p25: Double, median: Double, p75: Double, p95: Double, max: Double
        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let s = values.sorted()
            min = s[0]; max = s[s.count - 1]
            p5 = percentile(sorted: s, 5); p25 = percentile(sorted: s, 25); median = percentile(sorted: s, 50)
            p75 = percentile(sorted: s, 75); p95 = percentile(sorted: s, 95)
        }
    }

    public struct Intensity: Codable, Sendable, Equatable {
        public var p0_5: Double, p99_5: Double, mean: Double, std: Double
    }

    public var layout: String
    public var root: String
    public var samples: Int
    /// Samples that could not be loaded (and are not in the statistics), with reasons.
    public var failures: [String]
    /// Pixels.
    public var medianWidth: Double
    public var medianHeight: Double
    /// All pixels (subsampled to ≤ 10,000 per image).
    public var intensity: Intensity?
    /// Lesion pixels only.
    public var lesionIntensity: Intensity?
    /// Lesion pixels / image pixels, over samples with a non-empty mask.
    public var lesionAreaFraction: Distribution?
    /// Lesion pixels at original resolution.
    public var lesionAreaPixels: Distribution?
    /// Connected lesion regions per non-empty mask.
    public var lesionsPerImage: Distribution?
    public var classes: [String: Int]

    /// Computes the fingerprint on all cores.
    public static func compute(_ dataset: Dataset, pixelsPerImage: Int = 10_000) -> DatasetFingerprint {
        struct Part { var size: (Int, Int)?; var all = [Float](); var lesion = [Float](); var area = 0; var fraction = 0.0; var regions = 0; var failure: String? }
        let samples = dataset.samples
        let parts = Concurrently.map(samples.count) { i -> Part in
            var part = Part()
            do {
                let loaded = try samples[i].load()
                let pixels = loaded.image.pixels
                part.size = (loaded.image.width, loaded.image.height)
                let stride = max(1, pixels.count / pixelsPerImage)
                for j in Swift.stride(from: 0, to: pixels.count, by: stride) { part.all.append(pixels[j]) }
                let lesionIndices = loaded.mask.pixels.indices.filter { loaded.mask.pixels[$0] != 0 }
                let lesionStride = max(1, lesionIndices.count / pixelsPerImage)
                for j in Swift.stride(from: 0, to: lesionIndices.count, by: lesionStride) { part.lesion.append(pixels[lesionIndices[j]]) }
                part.area = lesionIndices.count
                part.fraction = loaded.mask.areaFraction
                part.regions = part.area > 0 ? ConnectedComponents(loaded.mask).count : 0
            } catch {
                part.failure = "\(error)"
            }
            return part
        }
        let ok = parts.filter { $0.size != nil }
        let lesioned = ok.filter { $0.area > 0 }
        var classes = [String: Int]()
        for s in samples { if let c = s.className { classes[c, default: 0] += 1 } }
        return DatasetFingerprint(
            layout: dataset.layout.rawValue, root: dataset.root.path, samples: samples.count,
            failures: parts.compactMap(\.failure),
            medianWidth: Summary(ok.map { Double($0.size!.0) })?.median ?? 0,
            medianHeight: Summary(ok.map { Double($0.size!.1) })?.median ?? 0,
            intensity: intensity(ok.flatMap(\.all)), lesionIntensity: intensity(ok.flatMap(\.lesion)),
            lesionAreaFraction: Distribution(lesioned.map(\.fraction)),
            lesionAreaPixels: Distribution(lesioned.map { Double($0.area) }),
            lesionsPerImage: Distribution(lesioned.map { Double($0.regions) }), classes: classes)
    }

    static func intensity(_ values: [Float]) -> Intensity? {
        guard !values.isEmpty else { return nil }
        let bounds = Percentiles.values(of: values, at: [0.5, 99.5])
        var sum = 0.0, squares = 0.0
        for v in values { sum += Double(v); squares += Double(v) * Double(v) }
        let mean = sum / Double(values.count)
        return Intensity(p0_5: Double(bounds[0]), p99_5: Double(bounds[1]), mean: mean,
                         std: max(0, squares / Double(values.count) - mean * mean).squareRoot())
    }

    /// Writes the fingerprint as JSON atomically.
    public func write(to url: URL) throws { try JSONFiles.write(self, to: url) }

    public static func load(_ url: URL) throws -> DatasetFingerprint {
        do { return try JSONDecoder().decode(DatasetFingerprint.self, from: Data(contentsOf: url)) } catch {
            throw DatasetError.invalidConfiguration("\(url.path): not a fingerprint file (\(error))")
        }
    }
}
