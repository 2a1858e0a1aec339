/// Pixel-centre coordinates of the implicit network's frame.
///
/// The frame is the letterboxed training square: pixel (x, y) of a W×H grid sits at
/// ((x + ½)/W · 2 − 1, (y + ½)/H · 2 − 1), so every resolution samples the same square (−1, 1)² and a 2x grid
/// interleaves with the 1x one. `extent` > 1 reads beyond the plane seen in training.
public enum CoordinateGrid {
    /// [H·W, 2] (x, y) in row-major pixel order.
    public static func grid(width: Int, height: Int, extent: Float = 1) -> [Float] {
        precondition(width > 0 && height > 0, "CoordinateGrid: size \(width)x\(height) must be positive")
        var out = [Float](repeating: 0, count: width * height * 2)
        for y in 0..<height {
            let cy = coordinate(y, height) * extent
            for x in 0..<width {
                out[2 * (y * width + x)] = coordinate(x, width) * extent
                out[2 * (y * width + x) + 1] = cy
            }
        }
        return out
    }

    /// The centre of pixel `i` of `n` in [−1, 1].
    @inline(__always) public static func coordinate(_ i: Int, _ n: Int) -> Float {
        (Float(i) + 0.5) / Float(n) * 2 - 1
    }

    /// The pixel-centre coordinates of `indices` (row-major pixel indices of a W×H grid), [indices.count, 2].
    public static func points(_ indices: [Int], width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: indices.count * 2)
        for (k, i) in indices.enumerated() {
            out[2 * k] = coordinate(i % width, width)
            out[2 * k + 1] = coordinate(i / width, height)
        }
        return out
    }
}
