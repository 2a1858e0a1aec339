import Foundation

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
        guard case .string = fields["base"] else { return data }
        return try JSONEncoder().encode(resolve(url, chain: []))
    }

    /// The recipe at `url` as a `T` (`what` names the kind of recipe in errors).
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        try decode(T.self, data: data(url), path: url.path, what: what)
    }

    /// Resolved recipe bytes as a `T`; errors name the file and the key at fault.
    static func decode<T: Decodable>(_ type: T.Type, data: Data, path: String, what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw PipelineError.unreadable(path, "not a valid \(what): \(describe(error))")
        }
    }

    private static func read(_ url: URL) throws -> (Data, [String: JSONValue]) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PipelineError.unreadable(url.path, "file not found or not readable")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PipelineError.unreadable(url.path, "not valid JSON: \(describe(error))")
        }
        guard case let .object(fields) = value else { throw PipelineError.unreadable(url.path, "a recipe is a JSON object") }
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
