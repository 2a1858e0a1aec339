/// Decodes uncompressed BMP files (BI_RGB or BI_BITFIELDS with the standard masks): 1-, 4- and 8-bit palette,
/// 24-bit BGR and 32-bit BGRA/BGRX, bottom-up or top-down. Palette images become grey when the palette is
/// grey, else RGB.
enum BMPDecoder {
    static func decode(_ bytes: [UInt8], path: String, maxPixels: Int) throws -> Image {
        func fail(_ reason: String) -> ImageError { .corrupt(path: path, format: "BMP", reason: reason) }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func i32(_ at: Int) -> Int { Int(Int32(bitPattern: UInt32(u32(at)))) }

        guard bytes.count >= 54 else { throw fail("file is truncated (header)") }
        let dataOffset = u32(10)
        let headerSize = u32(14)
        guard headerSize >= 40 else { throw fail("unsupported header size \(headerSize)") }
        let width = i32(18)
        let signedHeight = i32(22)
        let bitCount = u16(28)
        let compression = u32(30)
        guard width > 0, signedHeight != 0, width < 65536, abs(signedHeight) < 65536 else {
            throw fail("invalid size \(width)×\(signedHeight)")
        }
        guard compression == 0 || (compression == 3 && bitCount == 32) else {
            throw fail("compressed BMP (compression \(compression)) is not supported")
        }
        guard [1, 4, 8, 24, 32].contains(bitCount) else { throw fail("\(bitCount)-bit BMP is not supported") }
        let height = abs(signedHeight)
        if width * height > maxPixels {
            throw ImageError.tooLarge(path: path, reason: "image is \(width)x\(height) = " +
                String(format: "%.1f megapixels, above the limit of %.1f (--max-pixels)", Double(width * height) / 1e6, Double(maxPixels) / 1e6))
        }
        // Pixels start after the 14-byte file header and the info header (and a palette, checked below); an
        // offset inside the headers would decode header bytes as pixels.
        guard dataOffset >= 14 + headerSize, dataOffset < bytes.count else {
            throw fail("pixel data offset \(dataOffset) lies inside the headers or past the end of the file")
        }
        let topDown = signedHeight < 0
        let rowStride = (width * bitCount + 31) / 32 * 4
        guard dataOffset + rowStride * height <= bytes.count else { throw fail("file is truncated (pixels)") }

        if bitCount <= 8 {
            var colours = u32(46)
            if colours == 0 { colours = 1 << bitCount }
            let paletteStart = 14 + headerSize
            guard paletteStart + colours * 4 <= bytes.count else { throw fail("file is truncated (palette)") }
            guard dataOffset >= paletteStart + colours * 4 else {
                throw fail("pixel data offset \(dataOffset) overlaps the \(colours)-colour palette")
            }
            var palette = [(UInt8, UInt8, UInt8)]()
            for i in 0..<colours {
                let p = paletteStart + i * 4
                palette.append((bytes[p + 2], bytes[p + 1], bytes[p]))
            }
            let isGrey = palette.allSatisfy { $0.0 == $0.1 && $0.1 == $0.2 }
            let channels = isGrey ? 1 : 3
            var out = [UInt8](repeating: 0, count: width * height * channels)
            for y in 0..<height {
                let row = dataOffset + (topDown ? y : height - 1 - y) * rowStride
                for x in 0..<width {
                    let index = paletteIndex(bytes, row: row, x: x, bits: bitCount)
                    guard index < palette.count else { throw fail("palette index \(index) out of range") }
                    let c = palette[index]
                    if isGrey {
                        out[y * width + x] = c.0
                    } else {
                        let o = (y * width + x) * 3
                        out[o] = c.0; out[o + 1] = c.1; out[o + 2] = c.2
                    }
                }
            }
            return Image(width: width, height: height, channels: channels, pixels: .uint8(out), sourceBitDepth: bitCount)
        }

        let step = bitCount / 8
        // 32-bit BMPs usually leave the fourth byte unused (BGRX); it is dropped rather than trusted as alpha.
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = dataOffset + (topDown ? y : height - 1 - y) * rowStride
            for x in 0..<width {
                let p = row + x * step
                let o = (y * width + x) * 3
                out[o] = bytes[p + 2]; out[o + 1] = bytes[p + 1]; out[o + 2] = bytes[p]
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: .uint8(out), sourceBitDepth: 8)
    }

    /// The palette index of pixel `x` in a row of 1-, 4- or 8-bit indices, packed from the most significant bit.
    private static func paletteIndex(_ bytes: [UInt8], row: Int, x: Int, bits: Int) -> Int {
        let bit = x * bits
        let shift = 8 - bits - bit % 8
        return Int(bytes[row + bit / 8] >> UInt8(shift)) & (1 << bits - 1)
    }
}
