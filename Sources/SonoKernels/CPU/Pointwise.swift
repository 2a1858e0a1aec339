/// 1x1 convolution from a channel-blocked input to a plain output of a few channels: the segmentation head
/// (32 → 1). oneDNN offers only its reference kernel for this layout pair, and converting the input to plain
/// costs two full passes; these loops read the blocked input once.
/// x: [N, C/b, P, b] (nChw{b}c, P = H·W), w: [O, C], b: [O], y: [N, O, P]. The block width `block` (16 or 8,
/// whatever the input's layout holds) is also the SIMD width of the loops.
public enum PointwiseKernels {
    public static func forward(n: Int, c: Int, o: Int, pixels: Int, block: Int, x: UnsafePointer<Float>,
                               w: UnsafePointer<Float>, b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        switch block {
        case 16: forward(SIMD16<Float>.self, n, c, o, pixels, x, w, b, y)
        case 8: forward(SIMD8<Float>.self, n, c, o, pixels, x, w, b, y)
        case 4: forward(SIMD4<Float>.self, n, c, o, pixels, x, w, b, y)
        default: preconditionFailure("pointwise head: no kernel for \(block)-channel blocks")
        }
    }

    /// gx[n, cb, p, :] = Σ_o gy[n, o, p] · w[o, cb·b ..< cb·b+b]
    public static func backwardData(n: Int, c: Int, o: Int, pixels: Int, block: Int, gy: UnsafePointer<Float>,
                                    w: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>) {
        switch block {
        case 16: backwardData(SIMD16<Float>.self, n, c, o, pixels, gy, w, gx)
        case 8: backwardData(SIMD8<Float>.self, n, c, o, pixels, gy, w, gx)
        case 4: backwardData(SIMD4<Float>.self, n, c, o, pixels, gy, w, gx)
        default: preconditionFailure("pointwise head: no kernel for \(block)-channel blocks")
        }
    }

    /// gw[o, c] = Σ_{n,p} gy[n, o, p] · x[n, c, p];  gb[o] = Σ_{n,p} gy[n, o, p]  (both overwritten)
    public static func backwardWeights(n: Int, c: Int, o: Int, pixels: Int, block: Int, x: UnsafePointer<Float>,
                                       gy: UnsafePointer<Float>, gw: UnsafeMutablePointer<Float>,
                                       gb: UnsafeMutablePointer<Float>?) {
        switch block {
        case 16: backwardWeights(SIMD16<Float>.self, n, c, o, pixels, x, gy, gw, gb)
        case 8: backwardWeights(SIMD8<Float>.self, n, c, o, pixels, x, gy, gw, gb)
        case 4: backwardWeights(SIMD4<Float>.self, n, c, o, pixels, x, gy, gw, gb)
        default: preconditionFailure("pointwise head: no kernel for \(block)-channel blocks")
        }
    }

    @inline(__always)
    private static func forward<V: SIMD>(_: V.Type, _ n: Int, _ c: Int, _ o: Int, _ pixels: Int, _ x: UnsafePointer<Float>,
                                         _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?,
                                         _ y: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        let width = V.scalarCount, blocks = c / width
        Parallel.forRanges(n * pixels, minChunk: 4096) { r in
            for idx in r {
                let img = idx / pixels, p = idx % pixels
                for oc in 0..<o {
                    var acc = V()
                    for cb in 0..<blocks {
                        let xv = UnsafeRawPointer(x + ((img * blocks + cb) * pixels + p) * width).loadUnaligned(as: V.self)
                        let wv = UnsafeRawPointer(w + oc * c + cb * width).loadUnaligned(as: V.self)
                        acc += xv * wv
                    }
                    y[(img * o + oc) * pixels + p] = acc.sum() + (b?[oc] ?? 0)
                }
            }
        }
    }

    @inline(__always)
    private static func backwardData<V: SIMD>(_: V.Type, _ n: Int, _ c: Int, _ o: Int, _ pixels: Int,
                                              _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                              _ gx: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        let width = V.scalarCount, blocks = c / width
        Parallel.forRanges(n * pixels, minChunk: 4096) { r in
            for idx in r {
                let img = idx / pixels, p = idx % pixels
                for cb in 0..<blocks {
                    var acc = V()
                    for oc in 0..<o {
                        acc += gy[(img * o + oc) * pixels + p] * UnsafeRawPointer(w + oc * c + cb * width).loadUnaligned(as: V.self)
                    }
                    UnsafeMutableRawPointer(gx + ((img * blocks + cb) * pixels + p) * width).storeBytes(of: acc, as: V.self)
                }
            }
        }
    }

    @inline(__always)
    private static func backwardWeights<V: SIMD>(_: V.Type, _ n: Int, _ c: Int, _ o: Int, _ pixels: Int,
                                                 _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                                                 _ gw: UnsafeMutablePointer<Float>,
                                                 _ gb: UnsafeMutablePointer<Float>?) where V.Scalar == Float {
        let width = V.scalarCount, blocks = c / width
        let workers = max(1, Parallel.threads)
        // one partial sum per worker, added at the end: no sharing while accumulating
        let partialW = Buffer(zeros: workers * o * c), partialB = Buffer(zeros: workers * o)
        let total = n * pixels
        let chunk = (total + workers - 1) / workers
        Parallel.run(workers: workers) { t in
            let pw = partialW.pointer + t * o * c, pb = partialB.pointer + t * o
            var idx = t * chunk
            let end = min(total, idx + chunk)
            while idx < end {
                let img = idx / pixels, p = idx % pixels
                for oc in 0..<o {
                    let g = gy[(img * o + oc) * pixels + p]
                    pb[oc] += g
                    for cb in 0..<blocks {
                        let xv = UnsafeRawPointer(x + ((img * blocks + cb) * pixels + p) * width).loadUnaligned(as: V.self)
                        let dst = UnsafeMutableRawPointer(pw + oc * c + cb * width)
                        dst.storeBytes(of: dst.loadUnaligned(as: V.self) + g * xv, as: V.self)
                    }
                }
                idx += 1
            }
        }
        for i in 0..<(o * c) { gw[i] = (0..<workers).reduce(0) { $0 + partialW.pointer[$1 * o * c + i] } }
        if let gb { for i in 0..<o { gb[i] = (0..<workers).reduce(0) { $0 + partialB.pointer[$1 * o + i] } } }
    }
}
