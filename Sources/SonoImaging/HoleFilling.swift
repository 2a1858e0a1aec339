extension Mask {
    /// The mask with enclosed background filled: background not 4-connected to the border becomes lesion.
    /// (4-connected background pairs with 8-connected foreground, so diagonal gaps in an outline still close.)
    public func fillingHoles() -> Mask {
        let w = width, h = height
        guard w > 0, h > 0 else { return self }
        var outside = [Bool](repeating: false, count: w * h)
        var stack = [Int]()
        func seed(_ p: Int) {
            if pixels[p] == 0 && !outside[p] { outside[p] = true; stack.append(p) }
        }
        for x in 0..<w { seed(x); seed((h - 1) * w + x) }
        for y in 0..<h { seed(y * w); seed(y * w + w - 1) }
        while let p = stack.popLast() {
            let x = p % w, y = p / w
            if x > 0 { seed(p - 1) }
            if x < w - 1 { seed(p + 1) }
            if y > 0 { seed(p - w) }
            if y < h - 1 { seed(p + w) }
        }
        return Mask(width: w, height: h, pixels: outside.map { $0 ? 0 : 1 })
    }
}
