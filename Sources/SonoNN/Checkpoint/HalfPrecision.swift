/// Conversions between Float32 and the 16-bit formats safetensors files carry.
enum HalfPrecision {
    /// IEEE binary16 → Float32 (exact).
    @inline(__always) static func fromF16(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// Float32 → IEEE binary16, rounding to nearest even; out-of-range values become ±∞ as in PyTorch's `.half()`.
    @inline(__always) static func toF16(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// bfloat16 → Float32 (exact: bfloat16 is the top half of a Float32).
    @inline(__always) static func fromBF16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Float32 → bfloat16, rounding to nearest even as PyTorch does; NaN stays a (quiet) NaN.
    @inline(__always) static func toBF16(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7FC0 }
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
