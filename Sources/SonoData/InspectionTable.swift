import Foundation

/// A human-readable rendering of an `InspectionReport` for the terminal.
public enum InspectionTable {
    public static func render(_ r: InspectionReport, maxProblemsPerKind: Int = 5) -> String {
        func fmt(_ s: Summary?, _ scale: Double = 1, digits: Int = 0) -> String {
            guard let s else { return "-" }
            func f(_ v: Double) -> String { String(format: "%.\(digits)f", v * scale) }
            return "min \(f(s.min))  median \(f(s.median))  max \(f(s.max))"
        }
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        var lines = [
            "Dataset      \(r.root)",
            "Layout       \(r.layout)",
            "Images       \(r.images)   masks \(r.masks)   usable samples \(r.samples)",
            "Patients     \(r.patients.map(String.init) ?? "unknown")",
            "Classes      \(counts(r.classes))",
            "BI-RADS      \(counts(r.labels))",
            "Width px     \(fmt(r.imageSizes.width))",
            "Height px    \(fmt(r.imageSizes.height))",
            "Sizes        \(r.imageSizes.distinctSizes) distinct",
            "Colour       \(r.colourImages) images with differing RGB channels",
            "Lesion area  \(fmt(r.maskStatistics.areaFraction, 100, digits: 2)) % of image; "
                + "\(r.maskStatistics.emptyMasks) empty, \(r.maskStatistics.multipleComponents) with several regions",
            "Problems     \(r.problems.isEmpty ? "none" : counts(r.problemCounts))",
        ]
        var byKind = [DatasetProblem.Kind: [DatasetProblem]]()
        for p in r.problems { byKind[p.kind, default: []].append(p) }
        for kind in DatasetProblem.Kind.allCases {
            guard let list = byKind[kind] else { continue }
            lines.append("  \(kind.rawValue) (\(list.count)):")
            for p in list.prefix(maxProblemsPerKind) { lines.append("    \(p.message)") }
            if list.count > maxProblemsPerKind { lines.append("    … \(list.count - maxProblemsPerKind) more (use --json)") }
        }
        return lines.joined(separator: "\n")
    }
}
