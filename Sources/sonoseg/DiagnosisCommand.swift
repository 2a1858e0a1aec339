import SonoDiagnosis
import ArgumentParser
import Foundation
import SonoBase
import SonoPipeline
import SonoRegistry

struct DiagnosisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnosis",
        abstract: "Make and score the diagnosis bundle that `segment` runs: lesion presence, benign/malignant, BI-RADS.",
        subcommands: [Fit.self, Evaluate.self])

    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate trained classifiers and fit lesion presence on held-out images (recipes/diagnosis/bundle.json).",
            discussion: "Writes diagnosis.json, pathology.safetensors, birads.safetensors (temperatures in their headers) and fit.md to --out.")
        @Argument(help: "Diagnosis recipe (JSON).") var recipe: String
        @Option(help: "Bundle folder to write (e.g. models/diagnosis).") var out: String
        @OptionGroup var threading: ThreadOptions

        func run() throws {
            threading.apply()
            let m = try fitDiagnosis(try DiagnosisRecipe.load(URL(fileURLWithPath: recipe)), out: URL(fileURLWithPath: out), loadSegmenter: loadSegmenter, log: stderrLog)
            print("diagnosis bundle in \(out)/ (presence threshold \(String(format: "%.3f", m.presence.threshold)))")
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a diagnosis bundle as `segment` runs it: pathology, BI-RADS and presence with 95% bootstrap CIs, ECE and reliability diagrams.",
            discussion: "Writes diagnosis.md, diagnosis.json, predictions.csv and reliability-*.svg to --out.")
        @Option(help: "Diagnosis bundle folder (default: the bundled models/diagnosis).") var diagnosis: String?
        @Option(help: "Segmenter ('default': the bundled model).") var segmenter = "default"
        @Option(help: "Dataset folder.") var data: String?
        @Option(help: "Split file.") var split: String?
        @Option(help: "Which images: test, validation, development, all.") var part: DiagnosisImages.Part = .test
        @Option(help: "Only these classes, comma separated.") var classes: String?
        @Option(help: ArgumentHelp("Several image sets scored together instead of --data: a JSON object whose \"images\" lists {path, split, part, classes} (each as in a fit recipe's `calibration`), e.g. one dataset's lesion images with another's normal images.", valueName: "file"))
        var images: String?
        @Option(help: "Name in the tables.") var name = "diagnosis"
        @Option(help: "Output folder.") var out: String
        @Option(help: ArgumentHelp("Also fit the ensemble logit + lesion shape (taller-than-wide, circularity, solidity, posterior shadowing) in a logistic regression on another evaluation's images (its --out folder, e.g. the validation part) and score it here: shape-head.md.", valueName: "folder"))
        var shapeHeadFrom: String?
        @OptionGroup var threading: ThreadOptions

        func run() throws {
            threading.apply()
            let fitOn = try shapeHeadFrom.map { try JSONFiles.read(DiagnosisEvaluation.self, from: URL(fileURLWithPath: $0).appendingPathComponent("diagnosis.json")) }
            let bundle = try diagnosis.map { URL(fileURLWithPath: $0) } ?? DefaultModel.locate("models/diagnosis")
            let sets: [DiagnosisImages]
            switch (data, images) {
            case let (data?, nil):
                sets = [DiagnosisImages(path: data, split: split, part: part, classes: classes?.split(separator: ",").map(String.init))]
            case let (nil, file?):
                guard split == nil, classes == nil, part == .test else {
                    throw ValidationError("--images lists each set's split, part and classes; drop --split, --part and --classes")
                }
                sets = try RecipeFile.decode(DiagnosisImageList.self, from: URL(fileURLWithPath: file), what: "image list").images
                guard !sets.isEmpty else { throw ValidationError("\(file): the image list is empty") }
            case (nil, nil): throw ValidationError("give --data (with --split, --part, --classes) or --images")
            default: throw ValidationError("give --data or --images, not both")
            }
            let e = try evaluateDiagnosis(try Diagnoser(bundle), segmenter: try segmenterModel(segmenter, load: loadSegmenter), images: sets, log: stderrLog)
            try e.write(to: URL(fileURLWithPath: out), name: name)
            print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("diagnosis.md"), encoding: .utf8))
            if let fitOn {
                let study = try ShapeHeadStudy(fit: fitOn, score: e)
                try study.write(to: URL(fileURLWithPath: out))
                print(study.markdown)
            }
        }
    }
}

extension DiagnosisImages.Part: ExpressibleByArgument {}

/// `diagnosis evaluate --images FILE`: `{"images": [{"path", "split", "part", "classes"}, …]}`, relative paths
/// resolved as in recipes.
struct DiagnosisImageList: Codable { var images: [DiagnosisImages] }
