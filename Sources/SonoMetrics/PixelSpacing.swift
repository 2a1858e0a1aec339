/// Physical size of one pixel, in millimetres: `x` is the column pitch (width of a pixel), `y` the row pitch.
public struct PixelSpacing: Codable, Sendable, Equatable {
    /// Millimetres per pixel along x (columns).
    public var x: Double
    /// Millimetres per pixel along y (rows).
    public var y: Double

    public init(x: Double, y: Double) {
        (self.x, self.y) = (x, y)
    }

    /// Square pixels of `mm` millimetres.
    public init(isotropic mm: Double) { self.init(x: mm, y: mm) }

    /// Area of one pixel in mm².
    public var pixelArea: Double { x * y }
}

/// Unit of a distance metric (HD95, ASSD, diameters).
public enum DistanceUnit: String, Codable, Sendable {
    case pixels = "px"
    case millimetres = "mm"

    init(spacing: PixelSpacing?) { self = spacing == nil ? .pixels : .millimetres }
}
