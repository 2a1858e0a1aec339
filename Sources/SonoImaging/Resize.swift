/// How an intensity image is resampled to a new size.
public enum ImageResampling: String, Codable, Sendable {
    /// Bilinear interpolation at pixel centres (half-pixel aligned); good for upscaling and mild shrinking.
    case bilinear
    /// Box filter weighting each source pixel by its overlap with the output pixel; no aliasing when
    /// shrinking a lot (e.g. 1000 px → 256 px).
    case area
}

/// How a binary mask is resampled to a new size.
public enum MaskResampling: String, Codable, Sendable {
    /// The source pixel under each output pixel centre; never invents labels, but jagged when shrinking.
    case nearest
    /// Area-average the 0/1 mask, then lesion where coverage ≥ 0.5; smooth edges, keeps thin areas honest.
    case areaThreshold
}

extension GrayImage {
    /// This image resampled to `width`×`height` pixels.
    public func resized(width newWidth: Int, height newHeight: Int, method: ImageResampling = .bilinear) -> GrayImage {
        if newWidth == width && newHeight == height { return self }
        switch method {
        case .bilinear: return Resampler.bilinear(self, width: newWidth, height: newHeight)
        case .area: return Resampler.area(self, width: newWidth, height: newHeight)
        }
    }
}

extension Mask {
    /// This mask resampled to `width`×`height` pixels, still binary.
    public func resized(width newWidth: Int, height newHeight: Int, method: MaskResampling = .nearest) -> Mask {
        if newWidth == width && newHeight == height { return self }
        switch method {
        case .nearest:
            var out = [UInt8](repeating: 0, count: newWidth * newHeight)
            let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
            let columns = (0..<newWidth).map { min(width - 1, Int((Double($0) + 0.5) * sx)) }
            for y in 0..<newHeight {
                let row = min(height - 1, Int((Double(y) + 0.5) * sy)) * width
                for x in 0..<newWidth { out[y * newWidth + x] = pixels[row + columns[x]] }
            }
            return Mask(width: newWidth, height: newHeight, pixels: out)
        case .areaThreshold:
            let coverage = Resampler.area(toGray(), width: newWidth, height: newHeight)
            return Mask(width: newWidth, height: newHeight, pixels: coverage.pixels.map { $0 >= 0.5 ? 1 : 0 })
        }
    }
}

/// The resampling kernels behind `resized`.
enum Resampler {
    static func bilinear(_ image: GrayImage, width newWidth: Int, height newHeight: Int) -> GrayImage {
        let w = image.width, h = image.height
        let sx = Float(w) / Float(newWidth), sy = Float(h) / Float(newHeight)
        // Per-column source indices and weights are shared by every row.
        var x0 = [Int](repeating: 0, count: newWidth), x1 = x0, fx = [Float](repeating: 0, count: newWidth)
        for x in 0..<newWidth {
            let s = max(0, min(Float(w - 1), (Float(x) + 0.5) * sx - 0.5))
            x0[x] = Int(s); x1[x] = min(w - 1, x0[x] + 1); fx[x] = s - Float(x0[x])
        }
        var out = [Float](repeating: 0, count: newWidth * newHeight)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<newHeight {
                let s = max(0, min(Float(h - 1), (Float(y) + 0.5) * sy - 0.5))
                let y0 = Int(s), y1 = min(h - 1, y0 + 1), fy = s - Float(y0)
                let r0 = y0 * w, r1 = y1 * w
                for x in 0..<newWidth {
                    let top = src[r0 + x0[x]] + (src[r0 + x1[x]] - src[r0 + x0[x]]) * fx[x]
                    let bottom = src[r1 + x0[x]] + (src[r1 + x1[x]] - src[r1 + x0[x]]) * fx[x]
                    out[y * newWidth + x] = top + (bottom - top) * fy
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// Overlap weights of source pixels for each output pixel along one axis.
    struct AxisWeights {
        var start: [Int]
        var weights: [[Float]]
    }

    static func areaWeights(source: Int, target: Int) -> AxisWeights {
        let scale = Double(source) / Double(target)
        var start = [Int](), weights = [[Float]]()
        for i in 0..<target {
            let lo = Double(i) * scale, hi = Double(i + 1) * scale
            let first = Int(lo), last = min(source - 1, Int((hi - 1e-9).rounded(.down)))
            var w = [Float]()
            for s in first...max(first, last) {
                let overlap = min(hi, Double(s + 1)) - max(lo, Double(s))
                w.append(Float(max(0, overlap) / scale))
            }
            start.append(first); weights.append(w)
        }
        return AxisWeights(start: start, weights: weights)
    }

    static func area(_ image: GrayImage, width newWidth: Int, height newHeight: Int) -> GrayImage {
        let w = image.width, h = image.height
        let horizontal = areaWeights(source: w, target: newWidth)
        let vertical = areaWeights(source: h, target: newHeight)
        // Separable: rows first (h × newWidth), then columns.
        var rows = [Float](repeating: 0, count: h * newWidth)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for x in 0..<newWidth {
                    var sum: Float = 0
                    let base = y * w + horizontal.start[x]
                    for (k, weight) in horizontal.weights[x].enumerated() { sum += src[base + k] * weight }
                    rows[y * newWidth + x] = sum
                }
            }
        }
        var out = [Float](repeating: 0, count: newWidth * newHeight)
        for y in 0..<newHeight {
            let s = vertical.start[y]
            for (k, weight) in vertical.weights[y].enumerated() {
                let r = (s + k) * newWidth
                for x in 0..<newWidth { out[y * newWidth + x] += rows[r + x] * weight }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }
}
