import XCTest
@testable import SonoPipeline

/// Every shipped recipe parses and validates, so a typo fails here rather than an hour into a run.
final class RecipeTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testTrainingRecipesParse() throws {
        let config = try TrainConfig.load(root.appendingPathComponent("recipes/default.json"))
        try config.validate()
        XCTAssertEqual(config.data.count, 2)
        XCTAssertEqual(config.data[0].excludeClasses, ["normal"])
        XCTAssertEqual(config.model.baseChannels, 32)
        XCTAssertEqual(config.data[0].repeats, 2)
        XCTAssertEqual(config.data[1].repeats, 1)
    }

    /// `sonoseg train RECIPE` picks the trainer from the recipe's keys.
    func testRecipeKindIsDetectedFromEveryShippedRecipe() throws {
        XCTAssertEqual(try RecipeKind.detect(root.appendingPathComponent("recipes/default.json")), .unet)
        for folder in ["recipes/implicit", "recipes/classify"] {
            let dir = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".json") {
                let kind = try RecipeKind.detect(dir.appendingPathComponent(file))
                // classify grids have a "base" recipe, not a model: they run with `classify grid`, not `train`
                if folder == "recipes/classify", file == "jimenez-xu.json" { continue }
                XCTAssertEqual(kind, folder.hasSuffix("implicit") ? .implicit : .classify, file)
            }
        }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-recipe-\(getpid()).json")
        try Data("[1, 2]".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        XCTAssertThrowsError(try RecipeKind.detect(bad)) { XCTAssertTrue("\($0)".contains(bad.path)) }
        XCTAssertEqual(RecipeKind.forModel("resnet50"), .classify)
        XCTAssertEqual(RecipeKind.forModel("implicit"), .implicit)
        XCTAssertNil(RecipeKind.forModel("resnet51"))
    }

    func testRepeatsMustBePositive() {
        XCTAssertThrowsError(try JSONDecoder().decode(DataSource.self, from: Data(#"{"path": "x", "repeats": 0}"#.utf8)))
    }

    func testGridRecipesParseAndDiffer() throws {
        let folder = root.appendingPathComponent("recipes/grids")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 6)
        for file in files {
            let grid = try GridRecipe.load(folder.appendingPathComponent(file))
            let configs = try grid.variants.map { try grid.config($0) }
            for c in configs { try c.validate() }
            XCTAssertEqual(Set(configs.map(\.name)).count, configs.count, "\(file): variant names must differ")
            for (i, a) in configs.enumerated() {
                for b in configs[(i + 1)...] {
                    var x = a, y = b
                    x.name = ""; y.name = ""
                    XCTAssertNotEqual(x, y, "\(file): variants \(a.name) and \(b.name) train the same thing")
                }
            }
        }
    }

    func testPartialRecipeKeepsDefaults() throws {
        let config = try JSONDecoder().decode(TrainConfig.self, from: Data(#"{"epochs": 3, "model": {"depth": 2}}"#.utf8))
        XCTAssertEqual(config.epochs, 3)
        XCTAssertEqual(config.model.depth, 2)
        XCTAssertEqual(config.model.baseChannels, UNetConfig().baseChannels)
        XCTAssertEqual(config.batchSize, TrainConfig().batchSize)
    }

    /// The shared settings stay at the recipe's top level (config.json as users write it) and survive a round
    /// trip in both recipe types; each keeps its own default epochs.
    func testSharedSettingsRoundTripFlat() throws {
        var t = TrainConfig()
        (t.epochs, t.fold, t.seed, t.optimizer.learningRate, t.initialWeights) = (7, 2, 11, 3e-4, "runs/a")
        t.data = [DataSource(path: "d", excludeClasses: ["normal"], repeats: 2)]
        let json = try JSONEncoder().encode(t)
        let top = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        XCTAssertEqual(top["epochs"] as? Int, 7)
        XCTAssertEqual(top["initialWeights"] as? String, "runs/a")
        XCTAssertNil(top["settings"])
        XCTAssertEqual(try JSONDecoder().decode(TrainConfig.self, from: json), t)

        var c = ClassifyConfig()
        (c.epochs, c.batchSize, c.task) = (4, 3, .multitask)
        XCTAssertEqual(try JSONDecoder().decode(ClassifyConfig.self, from: try JSONEncoder().encode(c)), c)
        XCTAssertEqual(ClassifyConfig().epochs, 30)
        XCTAssertEqual(TrainConfig().epochs, 40)
        c.data = [DataSource(path: "d")]
        c.epochs = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("epochs")) }
    }
}
