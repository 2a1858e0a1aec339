import Foundation

/// Matching dataset labels to a network's class names.
public enum ClassLabels {
    /// The index of `label` in `names`: exact (case-insensitive) match, else a match on the leading digits
    /// ("4a" → "4", BI-RADS subcategories); nil when absent.
    public static func index(of label: String?, in names: [String]) -> Int? {
        guard let label = label?.trimmingCharacters(in: .whitespaces).lowercased(), !label.isEmpty else { return nil }
        if let i = names.firstIndex(where: { $0.lowercased() == label }) { return i }
        let digits = String(label.prefix { $0.isNumber })
        return digits.isEmpty ? nil : names.firstIndex(of: digits)
    }
}
