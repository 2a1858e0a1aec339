/// A 2-D affine map p' = (a·x + b·y + tx, c·x + d·y + ty), in pixel coordinates.
public struct AffineMap: Sendable, Equatable {
    public var a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double

    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.tx = tx; self.ty = ty
    }

    public static let identity = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)

    /// self ∘ other: apply `other` first, then `self`.
    public func concatenating(_ o: AffineMap) -> AffineMap {
        AffineMap(a: a * o.a + b * o.c, b: a * o.b + b * o.d, c: c * o.a + d * o.c, d: c * o.b + d * o.d,
                        tx: a * o.tx + b * o.ty + tx, ty: c * o.tx + d * o.ty + ty)
    }

    public func inverted() -> AffineMap? {
        let det = a * d - b * c
        guard abs(det) > 1e-12 else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return AffineMap(a: ia, b: ib, c: ic, d: id, tx: -(ia * tx + ib * ty), ty: -(ic * tx + id * ty))
    }

    public func apply(x: Double, y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }
}

/// Per-pixel offsets (in source pixels) added after the affine map: an elastic deformation field.
public struct DisplacementField: Sendable {
    public var width: Int, height: Int
    public var dx: [Float], dy: [Float]
    public init(width: Int, height: Int, dx: [Float], dy: [Float]) {
        self.width = width; self.height = height; self.dx = dx; self.dy = dy
    }
}

/// Geometric resampling in one pass: for each output pixel p, the source position is
/// `outputToSource(p) + displacement(p)`; image samples bilinearly, mask takes the nearest pixel, so image
/// and mask move identically. Outside the source: image `fill`, mask background.
public enum Warp {
    public static func apply(_ image: GrayImage, outputToSource map: AffineMap,
                             displacement: DisplacementField? = nil, fill: Float = 0) -> GrayImage {
        let w = image.width, h = image.height
        var out = [Float](repeating: fill, count: w * h)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for x in 0..<w {
                    var (sx, sy) = map.apply(x: Double(x), y: Double(y))
                    if let displacement {
                        sx += Double(displacement.dx[y * w + x]); sy += Double(displacement.dy[y * w + x])
                    }
                    guard sx > -1, sy > -1, sx < Double(w), sy < Double(h) else { continue }
                    let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                    let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                    func at(_ px: Int, _ py: Int) -> Float {
                        px < 0 || py < 0 || px >= w || py >= h ? fill : src[py * w + px]
                    }
                    let top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx
                    let bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx
                    out[y * w + x] = top + (bottom - top) * fy
                }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    public static func apply(_ mask: Mask, outputToSource map: AffineMap,
                             displacement: DisplacementField? = nil) -> Mask {
        let w = mask.width, h = mask.height
        var out = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var (sx, sy) = map.apply(x: Double(x), y: Double(y))
                if let displacement {
                    sx += Double(displacement.dx[y * w + x]); sy += Double(displacement.dy[y * w + x])
                }
                let nx = Int(sx.rounded()), ny = Int(sy.rounded())
                if nx >= 0, ny >= 0, nx < w, ny < h { out[y * w + x] = mask.pixels[ny * w + nx] }
            }
        }
        return Mask(width: w, height: h, pixels: out)
    }
}
