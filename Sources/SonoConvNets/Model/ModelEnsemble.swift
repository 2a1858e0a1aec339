import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoImaging
import SonoNN
import SonoTensor

/// Several U-Nets in one file whose lesion probabilities are averaged at each image's own size, so members
/// may differ in network and input size. Unlike a weight average (`averageModels`), this works for models
/// trained independently (different seeds), which is where ensembling gains most (Lakshminarayanan et al.
/// 2017); it costs one forward pass per member.
///
/// File: member `i`'s tensors under `m<i>.`, and a `sonoseg.ensemble` header entry holding every member's
/// `ModelInfo` and the ensemble's threshold.
public final class ModelEnsemble: Segmenter {
    struct Header: Codable, Equatable {
        var format = "sonoseg.ensemble/1"
        var members: [ModelInfo]
        var threshold: Float
        var recipe: String

        static let format1 = "sonoseg.ensemble/1"
        /// More members than anyone averages; each costs a forward pass per image.
        static let maxMembers = 32

        func problems(memoryLimit: Double = ModelInfo.memoryLimit) -> [String] {
            var out: [String] = []
            if format != Self.format1 { out.append("format is '\(format)'; allowed: \(Self.format1)") }
            if !(0...1).contains(threshold) { out.append("threshold is \(threshold); allowed: 0-1") }
            if members.count > Self.maxMembers { out.append("members has \(members.count) entries; allowed: 1-\(Self.maxMembers)") }
            for (i, member) in members.enumerated() {
                // `predict` averages lesion maps, which only U-Nets give.
                if member.classifier != nil { out.append("members[\(i)] is a \(member.architecture) classifier; allowed: U-Net segmenters") }
                out += member.problems(memoryLimit: memoryLimit).map { $0.hasPrefix("the ") ? "members[\(i)]: \($0)" : "members[\(i)].\($0)" }
            }
            // Estimated only once every member's sizes are in range (the estimate takes them on trust).
            if out.isEmpty, case let total = members.reduce(0, { $0 + $1.estimatedBytes }), total > memoryLimit {
                out.append("the \(members.count) networks would need about \(gibibytes(total)) together; allowed: at most \(gibibytes(memoryLimit))")
            }
            return out
        }
    }
    static let key = "sonoseg.ensemble"

    public let members: [LoadedModel]
    public let threshold: Float
    public let name: String
    public let url: URL
    public var segments: Bool { true }
    public var classNames: [String]? { nil }

    /// The number of members when `metadata` is an ensemble file's header, nil otherwise.
    static func memberCount(_ metadata: [String: String]) -> Int? {
        guard let json = metadata[key] else { return nil }
        return (try? DefaultsDecoder().decode(Header.self, from: Data(json.utf8)))?.members.count ?? 0
    }

    /// The ensemble header of the file at `url`, with an error naming the file when it is unreadable or empty.
    /// Every member passes the same check as a single model's header (`ModelInfo.problems`), named
    /// `members[i].key`, and all members together, being built at once, stay under one memory limit.
    static func header(_ metadata: [String: String], of url: URL) throws -> Header {
        let json = Data((metadata[key] ?? "").utf8)
        if let key = duplicateJSONKey(json) {
            throw PipelineError.noModel("\(url.path): invalid ensemble description: key '\(key)' appears twice (JSON would keep one of the values)")
        }
        let header: Header
        do { header = try DefaultsDecoder().decode(Header.self, from: json) } catch {
            throw PipelineError.noModel("\(url.path): unreadable ensemble description: \(describeDecoding(error))")
        }
        guard !header.members.isEmpty else { throw PipelineError.noModel("\(url.path): an ensemble with no members") }
        let problems = header.problems()
        guard problems.isEmpty else {
            throw PipelineError.noModel("\(url.path): invalid ensemble description: " + problems.joined(separator: "; "))
        }
        return header
    }

    /// Member `i`'s tensors, without their `m<i>.` prefix.
    static func tensors(ofMember i: Int, in tensors: [String: Tensor]) -> [String: Tensor] {
        let prefix = "m\(i)."
        return Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }
            .map { (String($0.key.dropFirst(prefix.count)), $0.value) })
    }

    init(tensors: [String: Tensor], metadata: [String: String], url: URL) throws {
        let header = try Self.header(metadata, of: url)
        members = try header.members.enumerated().map { i, info in
            try LoadedModel(tensors: Self.tensors(ofMember: i, in: tensors), info: info, url: url)
        }
        let claimed = header.members.indices.map { "m\($0)." }
        if let stray = tensors.keys.sorted().first(where: { name in !claimed.contains { name.hasPrefix($0) } }) {
            throw PipelineError.noModel("\(url.path): tensor '\(stray)' belongs to no ensemble member")
        }
        (threshold, name, self.url) = (header.threshold, header.recipe, url)
    }

    /// The mean of the members' lesion probabilities, each member at its own input size.
    public func predict(_ images: [GrayImage], flipTTA: Bool) throws -> [ImagePrediction] {
        try images.map { image in
            var sum = [Float](repeating: 0, count: image.width * image.height)
            for member in members {
                let p = try member.predict(image: image, flipTTA: flipTTA).lesion!
                for i in sum.indices { sum[i] += p.pixels[i] }
            }
            let scale = 1 / Float(members.count)
            return ImagePrediction(lesion: GrayImage(width: image.width, height: image.height, pixels: sum.map { $0 * scale }))
        }
    }

    /// Writes member `index` of the ensemble file `source` (or run folder) as a model file of its own (its tensors without the
    /// `m<i>.` prefix, under its own header): one network at one forward pass per image, e.g. where an ensemble's
    /// extra latency is not worth its accuracy. Returns the tensor count and the file size.
    @discardableResult
    public static func extractMember(_ index: Int, of source: URL, to destination: URL, dtype: Safetensors.Precision) throws -> (tensors: Int, bytes: Int) {
        let (source, tensors, metadata) = try readModelFile(source)
        guard memberCount(metadata) != nil else {
            throw PipelineError.invalidConfig("\(source.path): not an ensemble file, so it has no members to pick from")
        }
        let members = try header(metadata, of: source).members
        guard members.indices.contains(index) else {
            throw PipelineError.invalidConfig("\(source.path): no member \(index); its members are 0...\(members.count - 1)")
        }
        let own = Self.tensors(ofMember: index, in: tensors)
        _ = try LoadedModel(tensors: own, info: members[index], url: source)   // the member's tensors fit its network
        return try writeModelFile(own.keys.sorted().map { ($0, own[$0]!) }, metadata: members[index].metadata(), dtype: dtype, to: destination)
    }

    /// Writes the U-Net models at `sources` as one ensemble file with their common threshold. Returns the
    /// tensor count and the file size.
    @discardableResult
    public static func write(_ sources: [URL], to destination: URL, dtype: Safetensors.Precision) throws -> (tensors: Int, bytes: Int) {
        guard sources.count >= 2 else { throw PipelineError.invalidConfig("export --ensemble: give at least two models") }
        var tensors: [(String, Tensor)] = [], infos: [ModelInfo] = []
        for (i, source) in sources.enumerated() {
            let (own, metadata) = try Safetensors.read(source)
            if memberCount(metadata) != nil {
                throw PipelineError.invalidConfig("\(source.path): already an ensemble; list its member models instead")
            }
            let info = try ModelInfo.read(from: metadata, of: source)
            guard info.classifier == nil else {
                throw PipelineError.invalidConfig("\(source.path): a classification model; ensembles hold U-Net segmenters")
            }
            if let first = infos.first, first.threshold != info.threshold {
                throw PipelineError.invalidConfig("\(source.path): threshold \(info.threshold), but \(sources[0].path) has \(first.threshold); an ensemble has one threshold")
            }
            infos.append(info)
            tensors += own.keys.sorted().map { ("m\(i).\($0)", own[$0]!) }
        }
        let header = Header(members: infos, threshold: infos[0].threshold,
                            recipe: "ensemble of " + sources.map(\.relativePath).joined(separator: ", "))
        return try writeModelFile(tensors, metadata: [key: try headerJSON(header)], dtype: dtype, to: destination)
    }
}
