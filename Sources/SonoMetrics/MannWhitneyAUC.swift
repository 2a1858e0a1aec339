/// Area under the ROC curve by ranking (the Mann–Whitney U statistic), exact with ties.
public enum MannWhitneyAUC {
    /// P(score of a random positive > score of a random negative) + ½ P(equal): U / (P·N), which is the
    /// trapezoidal area under the ROC curve through every distinct threshold. nil when either class is absent
    /// (the curve is undefined) or when a score is NaN (it has no rank).
    ///
    /// Linear time: the scores are radix-sorted on their bit patterns (no comparison sort, which matters for
    /// 65 536 pixels × hundreds of images), then swept once, group of equal scores by group.
    public static func auc(scores: [Float], positives: [Bool]) -> Double? {
        let n = scores.count
        guard n == positives.count, n > 1 else { return nil }
        var keys = [UInt64](repeating: 0, count: n)
        var positiveCount = 0
        for i in 0..<n {
            let score = scores[i]
            if score.isNaN { return nil }
            let positive = positives[i]
            if positive { positiveCount += 1 }
            keys[i] = UInt64(orderedBits(score)) << 1 | (positive ? 1 : 0)
        }
        let negativeCount = n - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }

        radixSort33(&keys)

        // 2U accumulated in integers: each positive beats every negative in lower groups (2 each) and ties the
        // negatives of its own group (1 each).
        var twiceU = 0, negativesBelow = 0, i = 0
        while i < n {
            let group = keys[i] >> 1
            var groupPositives = 0, groupNegatives = 0
            while i < n && keys[i] >> 1 == group {
                if keys[i] & 1 == 1 { groupPositives += 1 } else { groupNegatives += 1 }
                i += 1
            }
            twiceU += groupPositives * (2 * negativesBelow + groupNegatives)
            negativesBelow += groupNegatives
        }
        return Double(twiceU) / (2 * Double(positiveCount) * Double(negativeCount))
    }

    /// A UInt32 whose unsigned order is the numeric order of the floats (−0 and +0 map to the same value).
    @inline(__always)
    static func orderedBits(_ value: Float) -> UInt32 {
        let bits = (value == 0 ? Float(0) : value).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// LSD radix sort of keys below 2³³, three passes of 11 bits.
    private static func radixSort33(_ keys: inout [UInt64]) {
        let n = keys.count
        var scratch = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 2048)
        // Raw buffers: the scatter loop is the hot path, and array writes there would pay uniqueness checks.
        keys.withUnsafeMutableBufferPointer { keyBuffer in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                counts.withUnsafeMutableBufferPointer { count in
                    var source = keyBuffer.baseAddress!, target = scratchBuffer.baseAddress!
                    var sortedInKeys = true
                    for shift in [0, 11, 22] {
                        for i in 0..<2048 { count[i] = 0 }
                        for i in 0..<n { count[Int(truncatingIfNeeded: source[i] &>> UInt64(shift)) & 2047] += 1 }
                        // Every key has this digit: the pass would not move anything.
                        if count.contains(n) { continue }
                        var total = 0
                        for i in 0..<2048 {
                            let c = count[i]
                            count[i] = total
                            total += c
                        }
                        for i in 0..<n {
                            let key = source[i]
                            let digit = Int(truncatingIfNeeded: key &>> UInt64(shift)) & 2047
                            target[count[digit]] = key
                            count[digit] += 1
                        }
                        swap(&source, &target)
                        sortedInKeys.toggle()
                    }
                    if !sortedInKeys { keyBuffer.baseAddress!.update(from: scratchBuffer.baseAddress!, count: n) }
                }
            }
        }
    }
}
