import ArgumentParser
import CCPUCheck
import Foundation
import SonoBase
import SonoPipeline
import SonoServe

/// A reference that keeps CCPUCheck linked: its constructor names a CPU without AVX2 before `main` runs.
let cpuCheckLinked = sonoseg_cpu_check_linked()

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonoseg serve",
        abstract: "The reading room: a browser workstation and HTTP API over the loaded models.",
        discussion: """
        Lists the images under --root (recursively; every format `segment` reads; each frame of a multi-frame \
        file), segments them in the background with the model and diagnosis loaded once, and serves the page \
        where a reader reviews and corrects the outlines. Saved reviews go to ROOT/reviewed/ (images/, masks/, \
        records/), the layout `sonoseg train --data ROOT/reviewed` reads. The API is docs/api/openapi.yaml. \
        Loopback only unless --host is given with --token. Research use only, not a medical device.
        """,
        version: SonoSegVersion.current)

    @Option(help: ArgumentHelp("Folder of images to review; uploads and reviews are saved here.", valueName: "folder"))
    var root: String = "."
    @Option(help: ArgumentHelp("Segmenter (file or run folder; default: the bundled models/default).", valueName: "path"))
    var model: String?
    @Option(help: ArgumentHelp("Diagnosis bundle (default: the bundled models/diagnosis).", valueName: "folder"))
    var diagnosis: String?
    @Flag(help: "Outlines only: no lesion presence, pathology or BI-RADS.") var noDiagnosis = false
    @Option(help: "Address to listen on; anything but loopback needs --token.") var host = "127.0.0.1"
    @Option(help: "Port (0: a free one, printed in the URL).") var port = 8080
    @Option(help: "Bearer token every API request must carry (visible to other users in `ps`: prefer --token-file).") var token: String?
    @Option(help: ArgumentHelp("Read the token from this file (its first line).", valueName: "file")) var tokenFile: String?
    @Option(help: "Inference requests allowed to wait before answering 503.") var queue = 32
    @Option(help: "Largest request body in MiB.") var maxUploadMb = 32
    @Option(help: ArgumentHelp("Serve the page from this folder (working on the page).", valueName: "folder"))
    var web: String?

    func run() async throws {
        if noDiagnosis && diagnosis != nil { throw ValidationError("--diagnosis and --no-diagnosis contradict each other") }
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        var token = self.token
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else { throw ValidationError("--token-file \(tokenFile): cannot be read") }
            token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        var settings = ServeSettings(root: URL(fileURLWithPath: root).standardizedFileURL)
        settings.model = model.map { URL(fileURLWithPath: $0) }
        settings.diagnosisFolder = diagnosis.map { URL(fileURLWithPath: $0) }
        settings.diagnosis = !noDiagnosis
        (settings.host, settings.port, settings.token) = (host, port, token)
        (settings.queueCapacity, settings.maxUploadMB) = (queue, maxUploadMb)
        settings.webFolder = web.map { URL(fileURLWithPath: $0) }
        do {
            try await ReadingRoomServer.run(settings) { line in
                print(line)
                fflush(stdout)
            }
        } catch let e as ServeError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The entry point: the OpenMP wait policy first (passive: a server's threads wait between requests without
/// spinning; it must be in the environment before libgomp starts), then the command line.
@main
enum Entry {
    static func main() async {
        WaitPolicy.ensureChosen()
        await ServeCommand.main()
    }
}
