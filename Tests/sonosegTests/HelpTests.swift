import SonoConvNets
import XCTest
import Foundation
import SonoPipeline
@testable import sonoseg

/// The command-line surface is an interface: its help text is pinned, so a change to it is deliberate.
final class HelpTests: XCTestCase {
    func testTopLevelHelpListsEveryStage() {
        let help = SonoSeg.helpMessage(columns: 100)
        for line in ["USAGE: sonoseg <subcommand>", "segment", "train", "evaluate", "cv", "grid", "dataset", "bench", "serve"] {
            XCTAssertTrue(help.contains(line), "missing '\(line)' in:\n\(help)")
        }
    }

    func testSegmentHelpIsPinned() {
        let expected = """
        OVERVIEW: Segment breast-ultrasound images.

        For each input STEM writes STEM_mask.png (0/255, the input's size), STEM_prob.png (lesion probability × 255),
        STEM_heatmap.png (the probability in colour with a scale bar) and STEM_overlay.png (outline, long and short
        axes, caption), then summary.csv and summary.json with lesion measurements. Without --model the bundled
        default model is used. The bundled diagnosis (models/diagnosis) adds to each image a calibrated probability
        that it shows a lesion (an image called lesion-free gets an empty mask), benign or malignant with the
        probability of malignancy, and the BI-RADS category, in the summary and the overlay's caption; --no-diagnosis
        leaves them out. An implicit model (NISF, Byra, models/byra-local) segments by latent optimisation with its
        own settings (K steps chosen on validation), through the same path as every other model, and also writes
        STEM_reconstruction.png, its code head's pathology (class) and, for a conditioned model, BI-RADS and
        pathology by latent search; `sonoseg implicit segment` takes the latent-fitting options. --resolution 4x adds
        the mask at four times the input's pixels: an implicit model reads its field at every one of them, a U-Net's
        probability is resized. A DICOM input (each frame) also gets STEM_seg.dcm, a DICOM Segmentation, and
        STEM_sr.dcm, a TID 1500 measurement report, with the source's patient and study attributes; --no-dicom-out
        leaves them out.

        USAGE: sonoseg segment [<options>] <inputs> ...

        ARGUMENTS:
          <inputs>                Image files or folders: PNG, JPEG, BMP, TIFF, DICOM (every frame; files without an
                                  extension are checked for DICOM).

        OPTIONS:
          --model <model>         Model file or folder (default: the bundled model).
          --out <out>             Output folder. (default: sonoseg-out)
          --threshold <threshold> Probability threshold (default: the model's).
          --largest-component     Keep only the largest lesion.
          --no-fill-holes         Do not fill holes in the mask.
          --tta                   Test-time augmentation: average with the mirrored image.
          --spacing <spacing>     Pixel spacing in mm, for sizes in mm, for files that carry none (a DICOM file's own
                                  calibration wins).
          --max-pixels <max-pixels>
                                  Largest image accepted, in pixels (width × height); larger files are refused from
                                  their header. (default: 100000000)
          --recursive             Also read the folders' subfolders (outputs keep folder names where file names would
                                  collide).
          --on-error <on-error>   On an unreadable image: fail, or skip it (listed in skipped.csv) and go on.
                                  (default: fail)
          --diagnosis <folder>    Diagnosis bundle: lesion presence, benign/malignant, BI-RADS (default: the bundled
                                  models/diagnosis).
          --no-diagnosis          Outline only: no lesion presence, pathology or BI-RADS.
          --presence-threshold <p>
                                  Lesion-presence cut-off on the calibrated probability (default: the bundle's).
                                  Below it the mask is empty and the segmenter's outline is kept as
                                  STEM_candidate_mask.png.
          --append                Add this run's rows to the summary an earlier run left in --out (its files are
                                  never overwritten); without it such a folder is refused.
          --shard <I/N|auto>      Only this part of the inputs, for a job split over machines: I/N (0-based), or auto
                                  to read it from Open MPI, Slurm array or Kubernetes Indexed Job variables. Images
                                  go to --out, the summary part to --out/parts/shard-I-of-N; `sonoseg merge` joins
                                  the parts.
          --shards <shards>       With --shard auto in a Kubernetes Indexed Job: the number of shards (the Job's
                                  completions).
          --resolution <4x|WxH>   Also write STEM_mask_hires.png, STEM_prob_hires.png and STEM_overlay_hires.png at a
                                  factor of the input's size (4x) or at WxH. An implicit model reads its field at
                                  every output pixel; a U-Net's probability is resized bilinearly.
          --no-dicom-out          For DICOM inputs, no STEM_seg.dcm (DICOM Segmentation) and STEM_sr.dcm (TID 1500
                                  measurement report); other formats never get them.
          --threads <threads>     Worker threads (default: all cores).
          --version               Show the version.
          -h, --help              Show help information.

        """
        XCTAssertEqual(SonoSeg.helpMessage(for: SegmentCommand.self, columns: 110), expected)
    }

    func testBadArgumentsAreRejectedWithAMessage() {
        XCTAssertThrowsError(try SonoSeg.parseAsRoot(["train", "--epochs", "many", "--out", "x"])) { error in
            XCTAssertTrue(SonoSeg.message(for: error).contains("many"), SonoSeg.message(for: error))
        }
        XCTAssertThrowsError(try SonoSeg.parseAsRoot(["train", "--loss", "hinge", "--out", "x"]))
        XCTAssertThrowsError(try SonoSeg.parseAsRoot(["segment"]))   // no inputs
        XCTAssertThrowsError(try SonoSeg.parseAsRoot(["train", "--task", "diagnose", "--out", "x"]))
    }

    /// `--seed` repeats a run with other weights on the same held-out images; `--split-seed` is what reshuffles.
    func testSeedKeepsTheSplitAndSplitSeedChangesIt() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let recipe = try TrainConfig.load(root.appendingPathComponent("recipes/default.json"))
        let seeded = try XCTUnwrap(try SonoSeg.parseAsRoot(["train", "--seed", "7", "--out", "x"]) as? TrainCommand)
        let c = seeded.options.apply(to: recipe)
        XCTAssertEqual(c.seed, 7)
        XCTAssertEqual(c.split, recipe.split)
        let split = try XCTUnwrap(try SonoSeg.parseAsRoot(["train", "--split-seed", "3", "--out", "x"]) as? TrainCommand)
        XCTAssertEqual(split.options.apply(to: recipe).split.seed, 3)
        XCTAssertEqual(split.options.apply(to: recipe).seed, recipe.seed)
    }
}
