import Foundation
import SonoBase
import SonoImaging

/// Reads every image and mask of a dataset (on all cores) and reports counts, size and mask statistics and
/// problems: unreadable files, size mismatches, non-binary masks, empty masks on lesion images and
/// duplicate images (same decoded pixels, e.g. BUSI's `benign (433)` = `malignant (145)`).
public struct DatasetInspector: Sendable {
    public init() {}

    /// Per-sample findings, computed independently so they can run in parallel.
    struct Scan {
        var width = 0, height = 0
        var colour = false
        var hash: String?
        var maskFraction: Double?
        var components = 0
        var problems = [DatasetProblem]()
    }

    public func inspect(_ dataset: Dataset) -> InspectionReport {
        let samples = dataset.samples
        let scans = Concurrently.map(samples.count) { scan(samples[$0]) }
        var problems = dataset.problems
        for s in scans { problems += s.problems }
        problems += duplicateProblems(samples, scans)

        var classes = [String: Int](), labels = [String: Int]()
        for sample in samples {
            if let name = sample.className { classes[name, default: 0] += 1 }
            if let birads = sample.birads { labels[birads, default: 0] += 1 }
        }
        let patientIDs = samples.compactMap(\.patient)
        let readable = scans.filter { $0.width > 0 }
        let sizes = InspectionReport.SizeDistribution(
            width: Summary(readable.map { Double($0.width) }), height: Summary(readable.map { Double($0.height) }),
            distinctSizes: Set(readable.map { "\($0.width)x\($0.height)" }).count)
        let fractions = scans.compactMap(\.maskFraction)
        let maskStatistics = InspectionReport.MaskStatistics(
            areaFraction: Summary(fractions), emptyMasks: fractions.filter { $0 == 0 }.count,
            multipleComponents: scans.filter { $0.components > 1 }.count)
        var counts = [String: Int]()
        for p in problems { counts[p.kind.rawValue, default: 0] += 1 }
        return InspectionReport(
            layout: dataset.layout.rawValue, root: dataset.root.path, images: dataset.imageFileCount,
            masks: dataset.maskFileCount, samples: samples.count,
            patients: patientIDs.isEmpty ? nil : Set(patientIDs).count, classes: classes, labels: labels,
            colourImages: scans.filter(\.colour).count, imageSizes: sizes, maskStatistics: maskStatistics,
            problemCounts: counts, problems: problems)
    }

    func scan(_ sample: Sample) -> Scan {
        var result = Scan()
        let image: Image
        do { image = try ImageIO.read(sample.imageURL) } catch {
            result.problems.append(DatasetProblem(kind: .unreadableFile, files: [sample.imageURL.path], message: "\(error)"))
            return result
        }
        result.width = image.width
        result.height = image.height
        result.hash = ContentHash.of(image)
        result.colour = GrayConversion(image).channelsDiffered
        var merged = Mask(width: image.width, height: image.height)
        var usable = true
        for url in sample.maskURLs {
            let reading: MaskReading
            do { reading = try ImageIO.readMask(url) } catch {
                result.problems.append(DatasetProblem(kind: .unreadableFile, files: [url.path], message: "\(error)"))
                usable = false
                continue
            }
            if reading.mask.width != image.width || reading.mask.height != image.height {
                result.problems.append(DatasetProblem(kind: .sizeMismatch, files: [sample.imageURL.path, url.path],
                    message: "\(url.path): mask is \(reading.mask.width)×\(reading.mask.height) but its image is "
                        + "\(image.width)×\(image.height)"))
                usable = false
                continue
            }
            if !reading.isBinary {
                result.problems.append(DatasetProblem(kind: .nonBinaryMask, files: [url.path],
                    message: "\(url.path): mask has \(reading.distinctLevels > 2 ? "more than 2" : "\(reading.distinctLevels)") "
                        + "grey levels, not just black and white (thresholded at 50%)"))
            }
            merged = (try? merged.union(reading.mask)) ?? merged
        }
        guard usable else { return result }
        result.maskFraction = merged.areaFraction
        result.components = ConnectedComponents(merged).count
        if merged.isEmpty && !sample.maskURLs.isEmpty && sample.className?.lowercased() != "normal" {
            result.problems.append(DatasetProblem(kind: .emptyMaskOnLesion, files: sample.maskURLs.map(\.path),
                message: "\(sample.maskURLs[0].path): mask is empty but image \(sample.id) is labelled "
                    + "\(sample.className ?? "unlabelled") (not normal)"))
        }
        return result
    }

    func duplicateProblems(_ samples: [Sample], _ scans: [Scan]) -> [DatasetProblem] {
        var groups = [String: [Int]]()
        for (i, s) in scans.enumerated() { if let hash = s.hash { groups[hash, default: []].append(i) } }
        return groups.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }.map { members in
            let names = members.map { samples[$0].id }
            let classes = Set(members.compactMap { samples[$0].className })
            let note = classes.count > 1 ? "; labelled \(classes.sorted().joined(separator: " and "))" : ""
            return DatasetProblem(kind: .duplicateImage, files: members.map { samples[$0].imageURL.path },
                message: "\(samples[members[0]].imageURL.path): same pixels as \(names.dropFirst().joined(separator: ", "))\(note)")
        }
    }
}
