import SonoBase
@testable import SonoConvNets
@testable import SonoDiagnosis
import SonoRegistry
import XCTest
@testable import SonoPipeline
import SonoModels

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

    /// Every shipped training recipe loads through `Recipe.load` (so the unknown-key check knows all their keys),
    /// and a misspelt key is an error naming the file and the nearest known key.
    func testEveryShippedRecipeLoadsAndUnknownKeysAreRefused() throws {
        for folder in ["recipes", "recipes/implicit", "recipes/classify", "recipes/diagnosis", "recipes/diagnosis/lodo"] {
            let dir = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".json") {
                if file == "jimenez-xu.json" { continue }   // a grid (`classify grid`), checked by GridTests
                if file == "bundle.json" { XCTAssertNoThrow(try DiagnosisRecipe.load(dir.appendingPathComponent(file))); continue }
                do { _ = try Recipe.load(dir.appendingPathComponent(file)) } catch {
                    // The presence recipes train on data that `sonoseg dataset windows` / `candidates` make in
                    // runs/ (not in a clone). Keys are checked before the split's existence, so only that may be missing.
                    let made = ["windows", "candidates"].contains { "\(error)".contains("'runs/\($0)/") && file.hasPrefix("presence-\($0)") }
                    XCTAssertTrue(made && "\(error)".contains("is missing"), "\(folder)/\(file): \(error)")
                }
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("typo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (json, message) in [("{\"epoch\": 1}", "unknown key 'epoch' (did you mean 'epochs'?)"),
                                ("{\"optimizer\": {\"learningrate\": 0.1}}", "unknown key 'optimizer.learningrate' (did you mean 'learningRate'?)"),
                                ("{\"data\": [{\"path\": \"x\", \"exclude\": [\"normal\"]}]}", "unknown key 'data[0].exclude'"),
                                ("{\"task\": \"classify\", \"batchsize\": 4}", "unknown key 'batchsize' (did you mean 'batchSize'?)")] {
            let url = folder.appendingPathComponent("r.json")
            try Data(json.utf8).write(to: url)
            XCTAssertThrowsError(try Recipe.load(url)) { error in
                XCTAssertTrue("\(error)".hasPrefix(url.path) && "\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Relative paths in a recipe resolve from the recipe's folder or the nearest parent where they exist, not
    /// from the working folder, so a recipe runs from anywhere.
    func testRecipePathsResolveFromTheRecipesFolder() throws {
        let top = FileManager.default.temporaryDirectory.appendingPathComponent("anchor-\(UUID().uuidString)")
        let recipes = top.appendingPathComponent("recipes/sub")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: top.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: top) }
        let url = recipes.appendingPathComponent("r.json")
        try Data(#"{"data": [{"path": "data"}, {"path": "nowhere"}, {"path": "/abs"}], "labels": "birads", "task": "classify"}"#.utf8).write(to: url)
        let c = try ClassifyConfig.load(url)
        XCTAssertEqual(c.data.map(\.path), [top.appendingPathComponent("data").standardizedFileURL.path, "nowhere", "/abs"])
        XCTAssertEqual(c.labels, .birads, "values of other keys are left alone")
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
        let config = try DefaultsDecoder().decode(TrainConfig.self, from: Data(#"{"epochs": 3, "model": {"depth": 2}}"#.utf8))
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

/// `"base": "other.json"` recipes: the file states only what it changes.
final class RecipeBaseTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-base-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func write(_ name: String, _ json: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(json.utf8).write(to: url)
        return url
    }

    func testOverridesMergeObjectsKeyByKeyAndReplaceArraysAndValues() throws {
        _ = try write("parent.json", #"{"name": "p", "data": [{"path": "a"}, {"path": "b"}], "epochs": 20, "batchSize": 4, "optimizer": {"kind": "adam", "learningRate": 0.002, "warmupSteps": 200}}"#)
        // Two levels, the middle one in another folder: each base is found relative to the file that names it.
        _ = try write("sub/middle.json", #"{"base": "../parent.json", "batchSize": 8}"#)
        let child = try write("child.json", #"{"base": "sub/middle.json", "name": "c", "data": [{"path": "z"}], "optimizer": {"learningRate": 0.0005}, "seed": 3}"#)
        let c = try TrainConfig.load(child)
        XCTAssertEqual(c.name, "c")
        XCTAssertEqual(c.data.map(\.path), ["z"])
        XCTAssertEqual([c.epochs, c.batchSize], [20, 8])
        XCTAssertEqual(c.optimizer.kind, .adam)
        XCTAssertEqual(c.optimizer.learningRate, 0.0005)
        XCTAssertEqual(c.optimizer.warmupSteps, 200)
        XCTAssertEqual(c.seed, 3)
        XCTAssertEqual(try RecipeKind.detect(child), .unet)
    }

    func testCircularOrMissingBaseIsAnErrorNamingTheFiles() throws {
        let a = try write("a.json", #"{"base": "b.json", "epochs": 1}"#)
        _ = try write("b.json", #"{"base": "a.json", "epochs": 2}"#)
        XCTAssertThrowsError(try TrainConfig.load(a)) { XCTAssertTrue("\($0)".contains("circle") && "\($0)".contains("b.json"), "\($0)") }
        let orphan = try write("orphan.json", #"{"base": "nowhere.json"}"#)
        XCTAssertThrowsError(try TrainConfig.load(orphan)) { XCTAssertTrue("\($0)".contains("nowhere.json"), "\($0)") }
    }

    /// The shipped variants of the default recipe differ from it in exactly what their files say.
    func testShippedVariantsResolveOntoTheDefaultRecipe() throws {
        let recipes = root.appendingPathComponent("recipes")
        let base = try TrainConfig.load(recipes.appendingPathComponent("default.json"))
        var long = base
        (long.name, long.epochs, long.earlyStoppingPatience) = ("default-long", 60, 15)
        XCTAssertEqual(try TrainConfig.load(recipes.appendingPathComponent("default-long.json")), long)
        let finetune = try TrainConfig.load(recipes.appendingPathComponent("default-finetune.json"))
        var seeded = finetune
        (seeded.name, seeded.seed, seeded.initialWeights) = ("default-finetune-seed1", 1, "runs/default-s1/model.safetensors")
        XCTAssertEqual(try TrainConfig.load(recipes.appendingPathComponent("default-finetune-seed1.json")), seeded)
        XCTAssertEqual(finetune.optimizer.learningRate, 0.0005)
        XCTAssertEqual(finetune.optimizer.schedule, base.optimizer.schedule)
        XCTAssertEqual(finetune.data, base.data)
    }
}
