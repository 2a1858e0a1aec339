/// Vectorised transcendental functions on 16 lanes (one AVX-512 register), Cephes-style: range reduction, then
/// a short polynomial. Maximum relative error about 2 ulp over the ranges networks use; the tests compare each
/// against Foundation's scalar functions.
public typealias V16 = SIMD16<Float>

@usableFromInline let ln2Hi: Float = 0.693359375, ln2Lo: Float = -2.12194440e-4
/// 1.5·2²³ and its bit pattern: for |k| < 2²², the bits of (1.5·2²³ + k) are `roundingMagicBits + k`.
@usableFromInline let roundingMagic: Float = 12_582_912, roundingMagicBits: Int32 = 0x4B40_0000

/// e^x, clamped to Float's range.
@inlinable @inline(__always)
public func vexp(_ x: V16) -> V16 {
    let x = pointwiseMin(pointwiseMax(x, V16(repeating: -87.3)), V16(repeating: 88.3))
    // Round to nearest by adding 1.5·2²³: the sum's low mantissa bits then hold n as an integer, so neither
    // `rounded` nor an Int32 conversion is needed (both compile to per-lane scalar loops here).
    let t = x * 1.44269504088896341 + roundingMagic
    let n = t - roundingMagic
    var r = x - n * ln2Hi
    r = r - n * ln2Lo
    var p = V16(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- roundingMagicBits &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: V16.self)
}

/// Natural logarithm for x > 0.
@inlinable @inline(__always)
public func vlog(_ x: V16) -> V16 {
    // x = 2^e · (1 + m) with 1 + m in [√½, √2), found with integer arithmetic alone: offsetting the bits by
    // those of √½ makes the exponent field roll over exactly at √½ (no compare-and-select, no lane-wise
    // Int32 → Float conversion; both compile to scalar loops here). e becomes a Float via the 1.5·2²³ trick.
    let sqrtHalfBits: Int32 = 0x3F35_04F3
    let shifted = unsafeBitCast(x, to: SIMD16<Int32>.self) &- sqrtHalfBits
    let e = unsafeBitCast((shifted &>> 23) &+ roundingMagicBits, to: V16.self) - roundingMagic
    let m = unsafeBitCast((shifted & 0x007F_FFFF) &+ sqrtHalfBits, to: V16.self) - 1
    let z = m * m
    var y = V16(repeating: 7.0376836292e-2)
    y = y * m - 1.1514610310e-1
    y = y * m + 1.1676998740e-1
    y = y * m - 1.2420140846e-1
    y = y * m + 1.4249322787e-1
    y = y * m - 1.6668057665e-1
    y = y * m + 2.0000714765e-1
    y = y * m - 2.4999993993e-1
    y = y * m + 3.3333331174e-1
    y = y * m * z
    y = y + e * ln2Lo - 0.5 * z
    return m + y + e * ln2Hi
}

/// sin(x) and cos(x) together: one range reduction serves both (the Gabor activation and its gradient need
/// both).
@inlinable @inline(__always)
public func vsincos(_ x: V16) -> (sin: V16, cos: V16) {
    // j = round(x / (π/2)) and its integer quadrant from the 1.5·2²³ trick (exact for |x| < 2²¹·π)
    let t = x * 0.636619772367581343 + roundingMagic
    let j = t - roundingMagic
    var r = x - j * 1.5703125
    r = r - j * 4.837512969970703125e-4
    r = r - j * 7.54978995489188216e-8
    let z = r * r
    var s = V16(repeating: -1.9515295891e-4)
    s = s * z + 8.3321608736e-3
    s = s * z - 1.6666654611e-1
    s = s * z * r + r
    var c = V16(repeating: 2.443315711809948e-5)
    c = c * z - 1.388731625493765e-3
    c = c * z + 4.166664568298827e-2
    c = c * z * z - 0.5 * z + 1
    let q = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- roundingMagicBits) & 3
    let swap = (q & 1) .== 1
    var sinv = s.replacing(with: c, where: swap)
    var cosv = c.replacing(with: s, where: swap)
    sinv = sinv.replacing(with: -sinv, where: (q & 2) .== 2)
    cosv = cosv.replacing(with: -cosv, where: ((q &+ 1) & 2) .== 2)
    return (sinv, cosv)
}

@inlinable @inline(__always)
public func vabs(_ x: V16) -> V16 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V16.self)
}

@inlinable @inline(__always)
public func vsigmoid(_ x: V16) -> V16 { 1 / (1 + vexp(-x)) }

@inlinable @inline(__always)
public func vtanh(_ x: V16) -> V16 {
    let a = vabs(x)
    let big = 1 - 2 / (vexp(a + a) + 1)
    let z = x * x
    let small = x + x * z * (-0.333333333 + z * 0.133333333)
    let t = big.replacing(with: -big, where: x .< 0)
    return t.replacing(with: small, where: a .< 0.0625)
}

/// log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|).
@inlinable @inline(__always)
public func vsoftplus(_ x: V16) -> V16 {
    x.replacing(with: 0, where: x .< 0) + vlog(1 + vexp(-vabs(x)))
}
