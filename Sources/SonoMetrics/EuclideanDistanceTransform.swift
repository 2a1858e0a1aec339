/// Exact Euclidean distance transform of a binary image (Felzenszwalb & Huttenlocher 2012, "Distance
/// Transforms of Sampled Functions"): one 1-D lower-envelope-of-parabolas pass down every column, then one along
/// every row, O(width × height) in all.
public enum EuclideanDistanceTransform {
    /// For every pixel, the squared Euclidean distance between its centre and the nearest feature pixel's
    /// centre, row-major (`y * width + x`). Units: px² without `spacing`, mm² with it (anisotropic pitches are
    /// exact, since the transform is separable per axis). `+infinity` everywhere when there is no feature pixel.
    public static func squaredDistances(features: [Bool], width: Int, height: Int,
                                        spacing: PixelSpacing? = nil) -> [Double] {
        let count = width * height
        guard count > 0, features.count == count else { return [] }
        var grid = [Double](repeating: .infinity, count: count)
        for i in 0..<count where features[i] { grid[i] = 0 }

        let longest = Swift.max(width, height)
        var line = [Double](repeating: 0, count: longest)
        var out = [Double](repeating: 0, count: longest)
        var vertices = [Int](repeating: 0, count: longest)
        var bounds = [Double](repeating: 0, count: longest + 1)

        let stepY = spacing?.y ?? 1, stepX = spacing?.x ?? 1
        // Raw buffers: these loops run over every pixel twice per image, and array accesses inside them would
        // pay uniqueness checks on every write.
        grid.withUnsafeMutableBufferPointer { g in
            line.withUnsafeMutableBufferPointer { f in
                out.withUnsafeMutableBufferPointer { d in
                    vertices.withUnsafeMutableBufferPointer { v in
                        bounds.withUnsafeMutableBufferPointer { z in
                            for x in 0..<width {
                                for y in 0..<height { f[y] = g[y * width + x] }
                                lowerEnvelope(f, height, stepY, d, v, z)
                                for y in 0..<height { g[y * width + x] = d[y] }
                            }
                            for y in 0..<height {
                                let row = y * width
                                for x in 0..<width { f[x] = g[row + x] }
                                lowerEnvelope(f, width, stepX, d, v, z)
                                for x in 0..<width { g[row + x] = d[x] }
                            }
                        }
                    }
                }
            }
        }
        return grid
    }

    /// d(p) = min over q of (step·(p − q))² + f(q) for p in 0..<n. Only finite samples contribute a parabola
    /// (an infinite f(q) can never be the minimum, and `inf − inf` would poison the intersections).
    private static func lowerEnvelope(_ f: UnsafeMutableBufferPointer<Double>, _ n: Int, _ step: Double,
                                      _ d: UnsafeMutableBufferPointer<Double>, _ v: UnsafeMutableBufferPointer<Int>,
                                      _ z: UnsafeMutableBufferPointer<Double>) {
        var k = -1
        for q in 0..<n where f[q].isFinite {
            let pq = Double(q) * step
            if k < 0 {
                k = 0
                v[0] = q
                z[0] = -.infinity
                z[1] = .infinity
                continue
            }
            var s: Double
            repeat {
                let pv = Double(v[k]) * step
                s = ((f[q] + pq * pq) - (f[v[k]] + pv * pv)) / (2 * (pq - pv))
                if s <= z[k] { k -= 1 } else { break }
            } while k >= 0  // z[0] = −∞, so k never actually drops below 0
            k += 1
            v[k] = q
            z[k] = s
            z[k + 1] = .infinity
        }
        guard k >= 0 else {
            for p in 0..<n { d[p] = .infinity }
            return
        }
        k = 0
        for p in 0..<n {
            let pp = Double(p) * step
            while z[k + 1] < pp { k += 1 }
            let delta = pp - Double(v[k]) * step
            d[p] = delta * delta + f[v[k]]
        }
    }
}
