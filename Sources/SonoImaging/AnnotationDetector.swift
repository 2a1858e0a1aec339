/// Burned-in annotations of an ultrasound frame: caliper marks (+, ×, dotted lines), text and coloured marks
/// that the scanner or the sonographer drew into the pixels. Graphics are drawn, not imaged: near-white with
/// a crisp edge (a dark pixel within `radius`), small and compact, or coloured. Echoes are blurred by the beam,
/// so even bright specular lines fade over several pixels.
public struct AnnotationDetector: Sendable {
    /// A line pixel is this much brighter than both pixels `gap` away across the line, for some gap in
    /// `gaps` (thin, drawn strokes up to 2·gap − 1 wide) ...
    public var minimumContrast: Float = 0.2
    public var gaps = [2, 3]
    /// ... and at least this bright (0-1).
    public var minimumBrightness: Float = 0.55
    /// A group of line pixels is a mark when it holds both horizontal and vertical strokes (a caliper cross, a
    /// character, a dot), at least this many of each: echoes are strokes along the skin, one direction only.
    public var minimumStrokes = 2
    /// Colour: max − min channel above this marks a pixel whatever its brightness.
    public var minimumChroma: Float = 0.2
    /// Grey marks are groups of 3 to `maximumArea` pixels that fit in a square `maximumExtent` wide (a word).
    public var maximumArea = 1500
    public var maximumExtent = 120
    /// Grown by this many pixels, so anti-aliased edges are hidden too.
    public var margin = 2

    public init() {}

    /// The annotation mask of `source` (1: hide) at its size.
    public func detect(_ source: Image) -> Mask {
        let grey = GrayConversion(source).image
        let w = grey.width, h = grey.height, g = grey.pixels
        let chroma = Self.chroma(source)
        // vertical strokes are thin in x, horizontal strokes thin in y
        var vertical = [Bool](repeating: false, count: w * h), horizontal = vertical
        var candidate = Mask(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x, v = g[i]
                if v >= minimumBrightness {
                    for d in gaps {
                        if x >= d && x + d < w && v - Swift.max(g[i - d], g[i + d]) >= minimumContrast { vertical[i] = true }
                        if y >= d && y + d < h && v - Swift.max(g[i - d * w], g[i + d * w]) >= minimumContrast { horizontal[i] = true }
                    }
                }
                if vertical[i] || horizontal[i] || (chroma.map { $0[i] >= minimumChroma } ?? false) { candidate.pixels[i] = 1 }
            }
        }
        // strokes one pixel apart (a broken caliper arm, the letters of a word) count as one mark
        let components = ConnectedComponents(Self.dilate(candidate, 1))
        let n = components.count
        var verticals = [Int](repeating: 0, count: n), horizontals = verticals, coloured = [Bool](repeating: false, count: n)
        var box = [(Int, Int, Int, Int)](repeating: (Int.max, Int.max, Int.min, Int.min), count: n)
        for i in 0..<(w * h) where candidate.pixels[i] != 0 {
            let k = Int(components.labels[i]) - 1, x = i % w, y = i / w
            if vertical[i] { verticals[k] += 1 }
            if horizontal[i] { horizontals[k] += 1 }
            if chroma.map({ $0[i] >= minimumChroma }) ?? false { coloured[k] = true }
            box[k] = (Swift.min(box[k].0, x), Swift.min(box[k].1, y), Swift.max(box[k].2, x), Swift.max(box[k].3, y))
        }
        var areas = [Int](repeating: 0, count: n)
        for i in 0..<(w * h) where candidate.pixels[i] != 0 { areas[Int(components.labels[i]) - 1] += 1 }
        let keep = (0..<n).map { k -> Bool in
            let area = areas[k]
            let extent = Swift.max(box[k].2 - box[k].0, box[k].3 - box[k].1) + 1
            guard area >= 3 else { return false }
            // colour is never tissue (Doppler boxes and overlays may be large)
            if coloured[k] { return true }
            return area <= maximumArea && extent <= maximumExtent && verticals[k] >= minimumStrokes && horizontals[k] >= minimumStrokes
        }
        var marks = Mask(width: w, height: h)
        for i in 0..<(w * h) where candidate.pixels[i] != 0 && keep[Int(components.labels[i]) - 1] { marks.pixels[i] = 1 }
        return margin > 0 ? Self.dilate(marks, margin) : marks
    }

    /// max − min channel per pixel (nil for a grey image).
    static func chroma(_ image: Image) -> [Float]? {
        guard image.channels >= 3 else { return nil }
        let c = image.channels, n = image.width * image.height
        var out = [Float](repeating: 0, count: n)
        switch image.pixels {
        case let .uint8(v):
            for i in 0..<n {
                let (r, g, b) = (v[i * c], v[i * c + 1], v[i * c + 2])
                out[i] = Float(max(r, g, b) - min(r, g, b)) / 255
            }
        case let .float(v):
            for i in 0..<n {
                let (r, g, b) = (v[i * c], v[i * c + 1], v[i * c + 2])
                out[i] = max(r, g, b) - min(r, g, b)
            }
        }
        return out
    }

    /// Separable square min / max filters of radius r (borders clamp).
    static func minFilter(_ p: [Float], _ w: Int, _ h: Int, _ r: Int) -> [Float] { filter(p, w, h, r, Swift.min) }
    static func maxFilter(_ p: [Float], _ w: Int, _ h: Int, _ r: Int) -> [Float] { filter(p, w, h, r, Swift.max) }

    private static func filter(_ p: [Float], _ w: Int, _ h: Int, _ r: Int, _ pick: (Float, Float) -> Float) -> [Float] {
        var rows = p, out = p
        for y in 0..<h {
            for x in 0..<w {
                var v = p[y * w + x]
                for dx in Swift.max(0, x - r)...Swift.min(w - 1, x + r) { v = pick(v, p[y * w + dx]) }
                rows[y * w + x] = v
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var v = rows[y * w + x]
                for dy in Swift.max(0, y - r)...Swift.min(h - 1, y + r) { v = pick(v, rows[dy * w + x]) }
                out[y * w + x] = v
            }
        }
        return out
    }

    static func dilate(_ mask: Mask, _ r: Int) -> Mask {
        let grown = maxFilter(mask.pixels.map(Float.init), mask.width, mask.height, r)
        return Mask(width: mask.width, height: mask.height, pixels: grown.map { $0 > 0 ? 1 : 0 })
    }
}
