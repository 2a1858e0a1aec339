import Foundation

/// Where the bundled default model lives: `models/default/model.safetensors` beside the executable's
/// checkout (found by walking up from the executable), or in the current folder.
public enum DefaultModel {
    public static let relativePath = "models/default/model.safetensors"

    public static func locate() throws -> URL { try locate(relativePath) }

    /// A bundled file or folder under the checkout (`models/…`), found as `locate()` finds the default model.
    public static func locate(_ relativePath: String) throws -> URL {
        var candidates: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relativePath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent(relativePath))
            dir.deleteLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found }
        throw PipelineError.noModel("no bundled model at \(relativePath) (looked beside the executable and in the current folder); pass --model")
    }
}
