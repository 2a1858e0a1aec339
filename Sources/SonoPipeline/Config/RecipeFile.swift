import Foundation
import SonoBase

/// A recipe file's JSON with its `base` resolved. `"base": "default.json"` (a path relative to the recipe's
/// own folder) starts from that recipe and lets this file override it: objects merge key by key, arrays and
/// plain values replace. A variant of the default recipe then states only what it changes, and an edit to the
/// default reaches every variant.
public enum RecipeFile {
    /// The resolved recipe, ready for `JSONDecoder`; errors name the file. A recipe without a `base` comes back
    /// byte for byte (merging goes through Double, which would round seeds above 2^53).
    public static func data(_ url: URL) throws -> Data {
        let url = url.standardizedFileURL
        let (data, fields) = try read(url)
        guard case .string = fields["base"] else { return try anchoringPaths(data, at: url.deletingLastPathComponent()) }
        return try anchoringPaths(JSONEncoder().encode(resolve(url, chain: [])), at: url.deletingLastPathComponent())
    }

    /// The recipe at `url` as a `T` (`what` names the kind of recipe in errors).
    public static func decode<T: Codable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        try decode(T.self, data: data(url), path: url.path, what: what)
    }

    /// Keys whose string values are file or folder paths.
    static let pathKeys: Set<String> = ["path", "split", "initialWeights", "segmenter", "pathology", "birads", "presenceClassifier"]

    /// The recipe with each relative path made absolute: resolved against the recipe's folder, then each of its
    /// parent folders, the first place it exists winning, so a recipe runs from any working folder (the
    /// repository's recipes name data as "../shared/data/…" from the repository root). A path found nowhere is
    /// left as written and reported by whatever reads it.
    static func anchoringPaths(_ data: Data, at folder: URL) throws -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return data }
        var changed = false
        func anchor(_ value: Any, key: String?) -> Any {
            if let d = value as? [String: Any] { return Dictionary(uniqueKeysWithValues: d.map { ($0.key, anchor($0.value, key: $0.key)) }) }
            if let a = value as? [Any] { return a.map { anchor($0, key: key) } }
            guard let key, pathKeys.contains(key), let p = value as? String, !p.isEmpty, !p.hasPrefix("/") else { return value }
            var dir = folder
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent(p).standardizedFileURL
                if FileManager.default.fileExists(atPath: candidate.path) { changed = true; return candidate.path }
                dir.deleteLastPathComponent()
            }
            return value
        }
        let anchored = anchor(object, key: nil)
        return changed ? try JSONSerialization.data(withJSONObject: anchored, options: [.sortedKeys]) : data
    }

    /// Resolved recipe bytes as a `T`; errors name the file and the key at fault. A key the recipe type does not
    /// have is an error too (a misspelt `"epoch": 1` would otherwise train the default 40 epochs), with the
    /// nearest known key suggested.
    public static func decode<T: Codable>(_ type: T.Type, data: Data, path: String, what: String) throws -> T {
        let value: T
        do { value = try DefaultsDecoder().decode(T.self, from: data) } catch {
            throw PipelineError.unreadable(path, "not a valid \(what): \(describeDecoding(error))")
        }
        // Every key the type reads appears when the decoded value is written back (optional ones once set).
        let given = try JSONSerialization.jsonObject(with: data)
        let known = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
        if let unknown = unknownKeys(given, known, at: "").first {
            throw PipelineError.unreadable(path, "not a valid \(what): \(unknown)")
        }
        return value
    }

    /// Keys older recipes may still use, read by the decoders but not written back.
    static let acceptedAliases: Set<String> = ["discriminatorLearningRate"]

    /// "unknown key 'a.b' (did you mean 'a.c'?)" for each key of `given` that `known` lacks at the same place.
    static func unknownKeys(_ given: Any, _ known: Any, at path: String) -> [String] {
        if let g = given as? [String: Any], let k = known as? [String: Any] {
            return g.keys.sorted().flatMap { key -> [String] in
                let here = path.isEmpty ? key : path + "." + key
                guard let sub = k[key] else {
                    if acceptedAliases.contains(key) || g[key] is NSNull { return [] }
                    let near = k.keys.min { editDistance(key, $0) < editDistance(key, $1) }
                    let hint = near.flatMap { editDistance(key, $0) <= max(2, key.count / 3) ? " (did you mean '\($0)'?)" : nil }
                    return ["unknown key '\(here)'" + (hint ?? "")]
                }
                return unknownKeys(g[key]!, sub, at: here)
            }
        }
        if let g = given as? [Any], let k = known as? [Any] {
            return zip(g, k).enumerated().flatMap { unknownKeys($1.0, $1.1, at: "\(path)[\($0)]") }
        }
        return []
    }

    /// Levenshtein distance, case-insensitive.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }

    private static func read(_ url: URL) throws -> (Data, [String: JSONValue]) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PipelineError.unreadable(url.path, "file not found or not readable")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PipelineError.unreadable(url.path, "not valid JSON: \(describeDecoding(error))")
        }
        guard case let .object(fields) = value else { throw PipelineError.unreadable(url.path, "a recipe is a JSON object") }
        if let key = duplicateJSONKey(data) {
            throw PipelineError.unreadable(url.path, "key '\(key)' appears twice; JSON keeps only one of the values, so give it once")
        }
        return (data, fields)
    }

    private static func resolve(_ url: URL, chain: [String]) throws -> JSONValue {
        var fields = try read(url).1
        // A grid's `base` is an inline recipe object, not a file: that is the grid's business.
        guard case let .string(path) = fields["base"] else { return .object(fields) }
        fields["base"] = nil
        let baseURL = URL(fileURLWithPath: path, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
        let chain = chain + [url.path]
        if chain.contains(baseURL.path) {
            throw PipelineError.unreadable(url.path, "'base' goes round in a circle: \((chain + [baseURL.path]).joined(separator: " → "))")
        }
        return try resolve(baseURL, chain: chain).merging(.object(fields))
    }
}
