import Foundation

/// One image of a dataset with everything known about it. Ids are unique within a `Dataset` and stable
/// across runs (split files refer to them).
public struct Sample: Codable, Sendable, Equatable {
    public var id: String
    public var imageURL: URL
    /// One or more lesion masks; the sample's mask is their union. Empty means "no lesion" (BUSI normal).
    public var maskURLs: [URL]
    /// Class used for stratification and classification labels (BUSI folder, BUS-BRA pathology).
    public var className: String?
    /// BI-RADS category as written in the source (e.g. "4", "4a").
    public var birads: String?
    /// Histopathology outcome, e.g. "benign"/"malignant".
    public var pathology: String?
    /// Patient (case) identifier; samples of one patient never straddle split partitions.
    public var patient: String?
    /// Other per-image metadata from the source (BUS-BRA: Case, Histology, Device, Side, BBOX).
    public var attributes: [String: String]

    public init(id: String, imageURL: URL, maskURLs: [URL], className: String? = nil, birads: String? = nil,
                pathology: String? = nil, patient: String? = nil, attributes: [String: String] = [:]) {
        (self.id, self.imageURL, self.maskURLs, self.className) = (id, imageURL, maskURLs, className)
        (self.birads, self.pathology, self.patient, self.attributes) = (birads, pathology, patient, attributes)
    }
}
