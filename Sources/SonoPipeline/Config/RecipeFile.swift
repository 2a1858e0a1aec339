import Foundation

/// A recipe file's JSON with its `base` resolved. `"base": "default.json"` (a path relative to the recipe's
/// own folder) starts from that recipe and lets this file override it: objects merge key by key, arrays and
/// plain values replace. A variant of the default recipe then states only what it changes, and an edit to the
/// default reaches every variant.
public enum RecipeFile {
    /// The resolved recipe, ready for `JSONDecoder`; errors name the file.
    public static func data(_ url: URL) throws -> Data {
        try JSONEncoder().encode(resolve(url.standardizedFileURL, chain: []))
    }

    private static func resolve(_ url: URL, chain: [String]) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PipelineError.unreadable(url.path, "file not found or not readable")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PipelineError.unreadable(url.path, "not valid JSON: \(describe(error))")
        }
        guard case var .object(fields) = value else { throw PipelineError.unreadable(url.path, "a recipe is a JSON object") }
        // A grid's `base` is an inline recipe object, not a file: that is the grid's business.
        guard case let .string(path) = fields["base"] else { return value }
        fields["base"] = nil
        let baseURL = URL(fileURLWithPath: path, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
        let chain = chain + [url.path]
        if chain.contains(baseURL.path) {
            throw PipelineError.unreadable(url.path, "'base' goes round in a circle: \((chain + [baseURL.path]).joined(separator: " → "))")
        }
        return try resolve(baseURL, chain: chain).merging(.object(fields))
    }
}
