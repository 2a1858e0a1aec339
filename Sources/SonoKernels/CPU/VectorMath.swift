/// Vectorised transcendental functions on 16 lanes (one AVX-512 register), Cephes-style: range reduction, then
/// a short polynomial. Maximum relative error about 2 ulp over the ranges networks use; the tests compare each
/// against Foundation's scalar functions.
public typealias V16 = SIMD16<Float>

@usableFromInline let ln2Hi: Float = 0.693359375, ln2Lo: Float = -2.12194440e-4

// Swift's generic SIMD conversions between Float and Int32, `rounded` and `clamped` compile to per-lane scalar
// code on Linux (measured: 60% of the Gabor kernel). These helpers use the 1.5·2²³ "magic number" trick and
// compare-and-select instead, which stay in vector registers.
@usableFromInline let magic: Float = 12_582_912   // 1.5 * 2^23
@usableFromInline let magicBits: Int32 = 0x4B40_0000

/// Round to nearest (ties to even) for |x| < 2²².
@inlinable @inline(__always)
func vround(_ x: V16) -> V16 { (x + magic) - magic }

/// The integer value of an already-rounded x, |x| < 2²².
@inlinable @inline(__always)
func vtoInt(_ rounded: V16) -> SIMD16<Int32> { unsafeBitCast(rounded + magic, to: SIMD16<Int32>.self) &- magicBits }

/// Float value of small integers, |i| < 2²².
@inlinable @inline(__always)
func vtoFloat(_ i: SIMD16<Int32>) -> V16 { unsafeBitCast(i &+ magicBits, to: V16.self) - magic }

public typealias I16 = SIMD16<Int32>

/// A lane mask as all-ones / all-zeros integers. `SIMD.replacing(with:where:)` runs lane by lane on Linux, so
/// selects are done with bitwise operations on these instead.
@inlinable @inline(__always)
public func vmask(_ m: SIMDMask<I16>) -> I16 { unsafeBitCast(m, to: I16.self) }

/// Lane-wise `m ? a : b`.
@inlinable @inline(__always)
public func vselect(_ m: I16, _ a: V16, _ b: V16) -> V16 {
    let ai = unsafeBitCast(a, to: I16.self), bi = unsafeBitCast(b, to: I16.self)
    return unsafeBitCast((ai & m) | (bi & ~m), to: V16.self)
}

@inlinable @inline(__always)
public func vmax(_ x: V16, _ y: V16) -> V16 { vselect(vmask(x .< y), y, x) }

@inlinable @inline(__always)
public func vmin(_ x: V16, _ y: V16) -> V16 { vselect(vmask(x .< y), x, y) }

/// Flips the sign of lanes where `m` is set.
@inlinable @inline(__always)
public func vnegate(_ x: V16, where m: I16) -> V16 {
    unsafeBitCast(unsafeBitCast(x, to: I16.self) ^ (m & I16(repeating: Int32(bitPattern: 0x8000_0000))), to: V16.self)
}

@inlinable @inline(__always)
public func vclamp(_ x: V16, _ lo: Float, _ hi: Float) -> V16 {
    vmin(vmax(x, V16(repeating: lo)), V16(repeating: hi))
}

/// e^x, clamped to Float's range.
@inlinable @inline(__always)
public func vexp(_ x: V16) -> V16 {
    let x = vclamp(x, -87.3, 88.3)
    let n = vround(x * 1.44269504088896341)
    var r = x - n * ln2Hi
    r = r - n * ln2Lo
    var p = V16(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let bits = (vtoInt(n) &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: V16.self)
}

/// Natural logarithm for x > 0.
@inlinable @inline(__always)
public func vlog(_ x: V16) -> V16 {
    let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
    var e = vtoFloat((bits &>> 23) &- 126)
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: V16.self)   // m in [0.5, 1)
    let small = vmask(m .< 0.707106781186547524)
    e = vselect(small, e - 1, e)
    m = vselect(small, m + m, m)
    m = m - 1
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
    let j = vround(x * 0.636619772367581343)   // x / (pi/2)
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
    let q = vtoInt(j) & 3
    let swap = I16(repeating: 0) &- (q & 1)          // all ones where q is odd
    let sinv = vselect(swap, c, s)
    let cosv = vselect(swap, s, c)
    let sinSign = (q & 2) &<< 30, cosSign = ((q &+ 1) & 2) &<< 30
    return (unsafeBitCast(unsafeBitCast(sinv, to: I16.self) ^ sinSign, to: V16.self),
            unsafeBitCast(unsafeBitCast(cosv, to: I16.self) ^ cosSign, to: V16.self))
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
    let t = vnegate(big, where: vmask(x .< 0))
    return vselect(vmask(a .< 0.0625), small, t)
}

/// log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|).
@inlinable @inline(__always)
public func vsoftplus(_ x: V16) -> V16 {
    vmax(x, V16()) + vlog(1 + vexp(-vabs(x)))
}
