/// What `DatasetInspector` found; encodes to the JSON printed by `sonoseg dataset inspect --json`.
public struct InspectionReport: Codable, Sendable {
    public struct SizeDistribution: Codable, Sendable {
        /// Pixels.
        public var width: Summary?
        public var height: Summary?
        public var distinctSizes: Int
    }

    public struct MaskStatistics: Codable, Sendable {
        /// Lesion pixels / image pixels per sample with a mask, in [0, 1].
        public var areaFraction: Summary?
        public var emptyMasks: Int
        /// Samples whose merged mask has more than one connected region.
        public var multipleComponents: Int
    }

    public var layout: String
    public var root: String
    /// Image files found on disk.
    public var images: Int
    /// Mask files found on disk.
    public var masks: Int
    /// Usable image+mask samples.
    public var samples: Int
    /// Distinct patients, or nil where the layout does not record patients (encoded as null).
    public var patients: Int?
    /// Class name → sample count.
    public var classes: [String: Int]
    /// BI-RADS category → sample count (empty where unknown).
    public var labels: [String: Int]
    /// Images whose RGB channels differ (colour marks); their grey conversion loses information.
    public var colourImages: Int
    public var imageSizes: SizeDistribution
    public var maskStatistics: MaskStatistics
    /// Problem kind → count.
    public var problemCounts: [String: Int]
    public var problems: [DatasetProblem]

    enum CodingKeys: String, CodingKey {
        case layout, root, images, masks, samples, patients, classes, labels, colourImages, imageSizes,
             maskStatistics, problemCounts, problems
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layout, forKey: .layout)
        try c.encode(root, forKey: .root)
        try c.encode(images, forKey: .images)
        try c.encode(masks, forKey: .masks)
        try c.encode(samples, forKey: .samples)
        try c.encode(patients, forKey: .patients)  // explicit null rather than a missing key
        try c.encode(classes, forKey: .classes)
        try c.encode(labels, forKey: .labels)
        try c.encode(colourImages, forKey: .colourImages)
        try c.encode(imageSizes, forKey: .imageSizes)
        try c.encode(maskStatistics, forKey: .maskStatistics)
        try c.encode(problemCounts, forKey: .problemCounts)
        try c.encode(problems, forKey: .problems)
    }
}
