import SonoPipeline
import SonoMetrics
import SonoData

/// Which label of a sample a classifier learns.
public enum LabelSource: String, Codable, Sendable, CaseIterable {
    /// The sample's class: BUSI's folder (benign/malignant/normal), BUS-BRA's pathology.
    case className
    /// The BI-RADS category as its number ("2"…"5"; the sub-categories 4a/4b/4c count as "4"). Samples without
    /// one (BUSI) are left out.
    case birads
    /// "lesion" or "normal" (BUSI's normal class): whether the image shows a lesion at all.
    case presence

    /// `samples` with `className` set to this label, and how many had none (left out).
    public func relabel(_ samples: [Sample]) -> (samples: [Sample], unlabelled: Int) {
        if self == .presence {
            return (samples.map { s in var t = s; t.className = s.className == "normal" ? "normal" : "lesion"; return t }, 0)
        }
        guard self == .birads else { return (samples, 0) }
        let kept: [Sample] = samples.compactMap { s in
            guard let digit = s.birads?.trimmingCharacters(in: .whitespaces).first, digit.isNumber else { return nil }
            var t = s
            t.className = String(digit)
            return t
        }
        return (kept, samples.count - kept.count)
    }
}
