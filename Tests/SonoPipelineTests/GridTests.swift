@testable import SonoConvNets
import XCTest
@testable import SonoPipeline

final class GridTests: XCTestCase {
    /// Variants whose configuration equals a finished run's (papers' tables share their baseline) reuse it,
    /// and each grid keeps its own table when grids share a folder.
    func testIdenticalVariantsTrainOnceAndEachGridKeepsItsTable() throws {
        let data = try makeDiscDataset(count: 12, size: 64)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grid-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: folder) }
        let base = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(tinyConfig(data: data, epochs: 1)))
        let set = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"loss": {"kind": "bce"}}"#.utf8))
        let same = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"loss": {"kind": "bceDice"}}"#.utf8))
        let first = GridRecipe(name: "first", base: base, variants: [.init(name: "baseline", set: same), .init(name: "BCE", set: set)], external: nil)
        let second = GridRecipe(name: "second", base: base, variants: [.init(name: "BCE + Dice again", set: same)], external: nil)
        var lines: [String] = []
        _ = try runGrid(first, folder: folder, log: { _ in })
        let table = try runGrid(second, folder: folder, log: { lines.append($0) })
        XCTAssertTrue(lines.contains { $0.contains("reusing") }, "\(lines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("bce---dice-again").path))
        XCTAssertTrue(table.contains("BCE + Dice again"))
        for f in ["grid-first.md", "grid-second.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(f).path), f)
        }
    }
}
