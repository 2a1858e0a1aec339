import SonoImplicit
import SonoBase
import SonoTestSupport
import SonoPipeline
import SonoModels

/// Synthetic lesions: a bright disc or square on a dark background, described analytically so masks can be
/// drawn at any resolution in the network's frame ([-1, 1]², pixel centres).
struct Shape {
    enum Kind: Int { case disc = 0, square = 1 }
    var kind: Kind
    var cx: Float, cy: Float, radius: Float

    func contains(_ x: Float, _ y: Float) -> Bool {
        switch kind {
        case .disc: return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius
        case .square: return abs(x - cx) <= radius && abs(y - cy) <= radius
        }
    }

    /// Mask [size²] 0/1 at `size`×`size`.
    func mask(_ size: Int) -> [Float] {
        CoordinateGridPoints.all(size).map { contains($0.0, $0.1) ? 1 : 0 }
    }

    /// Intensities [size²]: 0.85 inside, 0.15 outside.
    func image(_ size: Int) -> [Float] { mask(size).map { 0.15 + 0.7 * $0 } }

    static func random(_ kind: Kind, _ rng: inout SplitMix64) -> Shape {
        Shape(kind: kind, cx: rng.uniform() * 0.6 - 0.3, cy: rng.uniform() * 0.6 - 0.3, radius: 0.3 + rng.uniform() * 0.25)
    }
}

enum CoordinateGridPoints {
    static func all(_ size: Int) -> [(Float, Float)] {
        let g = CoordinateGrid.grid(width: size, height: size)
        return (0..<(size * size)).map { (g[2 * $0], g[2 * $0 + 1]) }
    }
}

/// A bank of shapes at `size`, labelled by kind in the pathology slot.
func shapeBank(_ shapes: [Shape], size: Int) -> ImageBank {
    var bank = ImageBank(width: size, height: size)
    for (i, s) in shapes.enumerated() {
        bank.append(id: "shape\(i)", intensities: s.image(size), mask: s.mask(size), pathology: s.kind.rawValue)
    }
    return bank
}

func dice(_ a: [Float], _ b: [Float]) -> Double {
    var tp = 0.0, p = 0.0, t = 0.0
    for (x, y) in zip(a, b) { let px = x > 0.5 ? 1.0 : 0, ty = y > 0.5 ? 1.0 : 0; tp += px * ty; p += px; t += ty }
    return p + t == 0 ? 1 : 2 * tp / (p + t)
}
