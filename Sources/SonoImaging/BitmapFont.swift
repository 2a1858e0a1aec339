/// A 5×7 pixel font for captions burned into overlays (upper case, digits and the punctuation results need;
/// lower case is drawn as upper case). Each glyph is 7 rows of 5 bits, the top row first, bit 4 the left column.
enum BitmapFont {
    static let width = 5, height = 7

    static func glyph(_ c: Character) -> [UInt8] {
        let u = Character(c.uppercased())
        return glyphs[u] ?? glyphs["?"]!
    }

    private static let glyphs: [Character: [UInt8]] = {
        let table: [(Character, String)] = [
            (" ", "00000 00000 00000 00000 00000 00000 00000"),
            ("A", "01110 10001 10001 11111 10001 10001 10001"), ("B", "11110 10001 10001 11110 10001 10001 11110"),
            ("C", "01110 10001 10000 10000 10000 10001 01110"), ("D", "11100 10010 10001 10001 10001 10010 11100"),
            ("E", "11111 10000 10000 11110 10000 10000 11111"), ("F", "11111 10000 10000 11110 10000 10000 10000"),
            ("G", "01110 10001 10000 10111 10001 10001 01111"), ("H", "10001 10001 10001 11111 10001 10001 10001"),
            ("I", "01110 00100 00100 00100 00100 00100 01110"), ("J", "00111 00010 00010 00010 00010 10010 01100"),
            ("K", "10001 10010 10100 11000 10100 10010 10001"), ("L", "10000 10000 10000 10000 10000 10000 11111"),
            ("M", "10001 11011 10101 10101 10001 10001 10001"), ("N", "10001 10001 11001 10101 10011 10001 10001"),
            ("O", "01110 10001 10001 10001 10001 10001 01110"), ("P", "11110 10001 10001 11110 10000 10000 10000"),
            ("Q", "01110 10001 10001 10001 10101 10010 01101"), ("R", "11110 10001 10001 11110 10100 10010 10001"),
            ("S", "01111 10000 10000 01110 00001 00001 11110"), ("T", "11111 00100 00100 00100 00100 00100 00100"),
            ("U", "10001 10001 10001 10001 10001 10001 01110"), ("V", "10001 10001 10001 10001 10001 01010 00100"),
            ("W", "10001 10001 10001 10101 10101 10101 01010"), ("X", "10001 10001 01010 00100 01010 10001 10001"),
            ("Y", "10001 10001 10001 01010 00100 00100 00100"), ("Z", "11111 00001 00010 00100 01000 10000 11111"),
            ("0", "01110 10001 10011 10101 11001 10001 01110"), ("1", "00100 01100 00100 00100 00100 00100 01110"),
            ("2", "01110 10001 00001 00010 00100 01000 11111"), ("3", "11111 00010 00100 00010 00001 10001 01110"),
            ("4", "00010 00110 01010 10010 11111 00010 00010"), ("5", "11111 10000 11110 00001 00001 10001 01110"),
            ("6", "00110 01000 10000 11110 10001 10001 01110"), ("7", "11111 00001 00010 00100 01000 01000 01000"),
            ("8", "01110 10001 10001 01110 10001 10001 01110"), ("9", "01110 10001 10001 01111 00001 00010 01100"),
            (".", "00000 00000 00000 00000 00000 01100 01100"), (",", "00000 00000 00000 00000 01100 00100 01000"),
            (":", "00000 01100 01100 00000 01100 01100 00000"), ("-", "00000 00000 00000 11111 00000 00000 00000"),
            ("+", "00000 00100 00100 11111 00100 00100 00000"), ("=", "00000 00000 11111 00000 11111 00000 00000"),
            ("(", "00010 00100 01000 01000 01000 00100 00010"), (")", "01000 00100 00010 00010 00010 00100 01000"),
            ("/", "00000 00001 00010 00100 01000 10000 00000"), ("%", "11000 11001 00010 00100 01000 10011 00011"),
            ("_", "00000 00000 00000 00000 00000 00000 11111"), ("?", "01110 10001 00001 00010 00100 00000 00100"),
            ("<", "00010 00100 01000 10000 01000 00100 00010"), (">", "01000 00100 00010 00001 00010 00100 01000"),
            ("|", "00100 00100 00100 00100 00100 00100 00100"), ("*", "00000 00100 10101 01110 10101 00100 00000"),
            ("'", "01100 00100 01000 00000 00000 00000 00000"), ("#", "01010 01010 11111 01010 11111 01010 01010"),
            ("[", "01110 01000 01000 01000 01000 01000 01110"), ("]", "01110 00010 00010 00010 00010 00010 01110"),
            ("x", "00000 00000 10001 01010 00100 01010 10001"),
        ]
        var out: [Character: [UInt8]] = [:]
        for (c, rows) in table { out[c] = rows.split(separator: " ").map { UInt8($0, radix: 2)! } }
        return out
    }()
}

extension Image {
    /// `text` written in `colour` with its top-left corner at (x, y), each font pixel `scale`×`scale`; what
    /// falls outside the image is dropped. RGB images only.
    mutating func draw(_ text: String, x: Int, y: Int, scale: Int, colour: RGB) {
        guard channels == 3, case var .uint8(p) = pixels else { return }
        var cx = x
        for c in text {
            // "×" has no glyph of its own; a small x reads the same.
            let rows = c == "×" ? BitmapFont.glyph("x") : BitmapFont.glyph(c)
            for (r, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.width where bits & (1 << (4 - col)) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cx + col * scale + dx, py = y + r * scale + dy
                            guard px >= 0, py >= 0, px < width, py < height else { continue }
                            let i = (py * width + px) * 3
                            p[i] = colour.r; p[i + 1] = colour.g; p[i + 2] = colour.b
                        }
                    }
                }
            }
            cx += (BitmapFont.width + 1) * scale
        }
        pixels = .uint8(p)
    }
}

extension Overlay {
    /// `image` with a dark band below it holding `lines` of caption text, sized to stay readable (and within the
    /// width: long lines are cut) at any image size.
    public static func captioned(_ image: Image, lines: [String]) -> Image {
        guard image.channels == 3, case let .uint8(p) = image.pixels, !lines.isEmpty else { return image }
        let scale = max(1, min(3, image.width / 320))
        let lineHeight = (BitmapFont.height + 3) * scale
        let band = lines.count * lineHeight + 3 * scale
        var out = Image(width: image.width, height: image.height + band, channels: 3,
                        pixels: .uint8(p + [UInt8](repeating: 24, count: image.width * band * 3)))
        let fits = max(1, (image.width - 4 * scale) / ((BitmapFont.width + 1) * scale))
        for (k, line) in lines.enumerated() {
            let text = line.count > fits ? String(line.prefix(max(0, fits - 2))) + ".." : line
            out.draw(text, x: 2 * scale, y: image.height + 2 * scale + k * lineHeight, scale: scale, colour: RGB(235, 235, 235))
        }
        return out
    }
}

extension Overlay {
    /// The inferno colour map (matplotlib's, five stops, linear between them): dark for 0, pale yellow for 1,
    /// readable in grey print and by colour-blind readers.
    public static func inferno(_ v: Float) -> RGB {
        let stops: [(Float, Float, Float)] = [(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)]
        let t = min(max(v.isFinite ? v : 0, 0), 1) * Float(stops.count - 1)
        let i = min(Int(t), stops.count - 2), f = t - Float(i)
        let (a, b) = (stops[i], stops[i + 1])
        return RGB(UInt8(a.0 + (b.0 - a.0) * f), UInt8(a.1 + (b.1 - a.1) * f), UInt8(a.2 + (b.2 - a.2) * f))
    }

    /// The probability map in colour over the grey image (each pixel blended by its own probability, so the
    /// background stays readable), with a colour scale bar from 0 to 1 on the right.
    public static func heatmap(_ image: GrayImage, probability: GrayImage) throws -> Image {
        guard image.width == probability.width, image.height == probability.height else {
            throw ImageError.incompatible("probability map is \(probability.width)×\(probability.height) but the image is \(image.width)×\(image.height)")
        }
        let scale = max(1, min(3, image.width / 320))
        let bar = 10 * scale, margin = 6 * scale, labels = 4 * (BitmapFont.width + 1) * scale
        let w = image.width + margin + bar + margin + labels, h = image.height
        var p = [UInt8](repeating: 24, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<image.width {
                let i = y * image.width + x, q = min(max(probability.pixels[i], 0), 1)
                let g = min(max(image.pixels[i], 0), 1) * 255, c = inferno(q), alpha = 0.15 + 0.7 * q
                let o = (y * w + x) * 3
                p[o] = UInt8(g * (1 - alpha) + Float(c.r) * alpha)
                p[o + 1] = UInt8(g * (1 - alpha) + Float(c.g) * alpha)
                p[o + 2] = UInt8(g * (1 - alpha) + Float(c.b) * alpha)
            }
        }
        let top = 8 * scale, bottom = h - 8 * scale, x0 = image.width + margin
        for y in top..<max(top + 1, bottom) {
            let c = inferno(Float(bottom - y) / Float(max(1, bottom - top)))
            for x in x0..<(x0 + bar) where y < h { let o = (y * w + x) * 3; p[o] = c.r; p[o + 1] = c.g; p[o + 2] = c.b }
        }
        var out = Image(width: w, height: h, channels: 3, pixels: .uint8(p))
        let lx = x0 + bar + margin / 2, half = BitmapFont.height * scale / 2
        for (text, y) in [("1.0", top), ("0.5", (top + bottom) / 2), ("0.0", bottom)] {
            out.draw(text, x: lx, y: y - half, scale: scale, colour: RGB(235, 235, 235))
        }
        return out
    }
}
