import Foundation

/// Files of a run folder.
public struct RunFolder {
    public let url: URL
    public init(_ url: URL) { self.url = url }
    public var config: URL { url.appendingPathComponent("config.json") }
    public var log: URL { url.appendingPathComponent("log.jsonl") }
    public var last: URL { url.appendingPathComponent("last.safetensors") }
    /// The best model by validation score, in the inference format `segment` reads.
    public var best: URL { url.appendingPathComponent("model.safetensors") }
    public var summary: URL { url.appendingPathComponent("summary.json") }
    public var skipped: URL { url.appendingPathComponent("skipped.json") }
}
