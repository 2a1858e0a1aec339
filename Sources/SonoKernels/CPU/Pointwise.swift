/// 1x1 convolution from a channel-blocked input to a plain output of a few channels: the segmentation head
/// (32 → 1). oneDNN offers only its reference kernel for this layout pair, and converting the input to plain
/// costs two full passes; these loops read the blocked input once.
/// x: [N, C/16, P, 16] (nChw16c, P = H·W), w: [O, C], b: [O], y: [N, O, P].
public enum PointwiseKernels {
    public static func forward(n: Int, c: Int, o: Int, pixels: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let blocks = c / 16
        Parallel.forRanges(n * pixels, minChunk: 4096) { r in
            for idx in r {
                let img = idx / pixels, p = idx % pixels
                for oc in 0..<o {
                    var acc = V16()
                    for cb in 0..<blocks {
                        let xv = UnsafeRawPointer(x + ((img * blocks + cb) * pixels + p) * 16).loadUnaligned(as: V16.self)
                        let wv = UnsafeRawPointer(w + oc * c + cb * 16).loadUnaligned(as: V16.self)
                        acc += xv * wv
                    }
                    y[(img * o + oc) * pixels + p] = acc.sum() + (b?[oc] ?? 0)
                }
            }
        }
    }

    /// gx[n, cb, p, :] = Σ_o gy[n, o, p] · w[o, cb·16 ..< cb·16+16]
    public static func backwardData(n: Int, c: Int, o: Int, pixels: Int, gy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                    gx: UnsafeMutablePointer<Float>) {
        let blocks = c / 16
        Parallel.forRanges(n * pixels, minChunk: 4096) { r in
            for idx in r {
                let img = idx / pixels, p = idx % pixels
                for cb in 0..<blocks {
                    var acc = V16()
                    for oc in 0..<o {
                        acc += gy[(img * o + oc) * pixels + p] * UnsafeRawPointer(w + oc * c + cb * 16).loadUnaligned(as: V16.self)
                    }
                    UnsafeMutableRawPointer(gx + ((img * blocks + cb) * pixels + p) * 16).storeBytes(of: acc, as: V16.self)
                }
            }
        }
    }

    /// gw[o, c] = Σ_{n,p} gy[n, o, p] · x[n, c, p];  gb[o] = Σ_{n,p} gy[n, o, p]  (both overwritten)
    public static func backwardWeights(n: Int, c: Int, o: Int, pixels: Int, x: UnsafePointer<Float>, gy: UnsafePointer<Float>,
                                       gw: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>?) {
        let blocks = c / 16
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
                        let xv = UnsafeRawPointer(x + ((img * blocks + cb) * pixels + p) * 16).loadUnaligned(as: V16.self)
                        let dst = UnsafeMutableRawPointer(pw + oc * c + cb * 16)
                        dst.storeBytes(of: dst.loadUnaligned(as: V16.self) + g * xv, as: V16.self)
                    }
                }
                idx += 1
            }
        }
        for i in 0..<(o * c) { gw[i] = (0..<workers).reduce(0) { $0 + partialW.pointer[$1 * o * c + i] } }
        if let gb { for i in 0..<o { gb[i] = (0..<workers).reduce(0) { $0 + partialB.pointer[$1 * o + i] } } }
    }
}
