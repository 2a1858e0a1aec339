import ArgumentParser
import Foundation

/// `sonoseg serve`: starts `sonoseg-serve`, the server's own binary beside this one. The server is a product of
/// its own (`make serve`) so that building `sonoseg` for `make demo` never compiles SwiftNIO and Hummingbird.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The reading room: a browser workstation and HTTP API (`make serve` builds it).",
        discussion: "Runs sonoseg-serve from beside this binary with the same arguments; `sonoseg serve --help` lists them.")

    @Argument(parsing: .captureForPassthrough, help: "Arguments for sonoseg-serve (--root, --model, --host, --port, --token, …).")
    var arguments: [String] = []

    func run() throws {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let server = here.appendingPathComponent("sonoseg-serve")
        guard FileManager.default.isExecutableFile(atPath: server.path) else {
            throw ValidationError("\(server.path) is not built: run `make serve` (or `swift build -c release --product sonoseg-serve`)")
        }
        let argv = [server.path] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(server.path, &cArgs)
        throw ValidationError("cannot start \(server.path): \(String(cString: strerror(errno)))")
    }
}
