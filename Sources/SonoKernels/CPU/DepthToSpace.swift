/// The pixel shuffle that turns a 1x1 convolution into a 2x2 stride-2 transposed convolution, on blocked tensors:
/// y[n, o, 2i+a, 2j+b] = x[n, (2a+b)·O + o, i, j] + bias[o]. x: [N, 4·O, H, W] and y: [N, O, 2H, 2W], both
/// nChw{block}c with O a multiple of `block`, so each move is one whole block of `block` floats.
public enum DepthToSpaceKernels {
    public static func forward(n: Int, o: Int, h: Int, w: Int, block: Int, x: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        precondition(o % block == 0, "depth-to-space: \(o) output channels do not fill \(block)-channel blocks")
        let blocks = o / block, pixels = h * w
        Parallel.forRanges(n * blocks * h, minChunk: 16) { rows in
            for row in rows {
                let i = row % h, ob = (row / h) % blocks, img = row / (h * blocks)
                let dstImage = y + (img * blocks + ob) * 4 * pixels * block
                for q in 0..<4 {
                    let (a, b) = (q / 2, q % 2)
                    let src = x + ((img * 4 * blocks + q * blocks + ob) * pixels + i * w) * block
                    let dst = dstImage + ((2 * i + a) * 2 * w + b) * block
                    for j in 0..<w {
                        for k in 0..<block { dst[2 * j * block + k] = src[j * block + k] + (bias?[ob * block + k] ?? 0) }
                    }
                }
            }
        }
    }
}
