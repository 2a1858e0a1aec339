import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoImaging
import SonoModels

/// What inpainting needs besides the latent fit: the probability threshold of the written mask (nil: the model's).
public struct InpaintOptions: Sendable {
    public var fit = LatentFitOptions()
    public var threshold: Float?
    public init() {}
}

/// Inpainting: hides `box` (x, y, width, height in the image's pixels); see `inpaintImplicit(_:hidden:…)`.
@discardableResult
public func inpaintImplicit(_ url: URL, box: (x: Int, y: Int, width: Int, height: Int), model: ImplicitModel,
                            options: InpaintOptions, out: URL) throws -> Double {
    let image = try ImageIO.read(url)
    guard box.width > 0, box.height > 0, box.x >= 0, box.y >= 0, box.x + box.width <= image.width, box.y + box.height <= image.height else {
        throw PipelineError.invalidConfig("\(url.path): box \(box) lies outside the \(image.width)x\(image.height) image")
    }
    var hidden = Mask(width: image.width, height: image.height)
    for y in box.y..<(box.y + box.height) { for x in box.x..<(box.x + box.width) { hidden.pixels[y * image.width + x] = 1 } }
    return try inpaintImplicit(url, hidden: hidden, model: model, options: options, out: out)
}

/// Burned-in annotations (calipers, text, coloured marks) found by `detector` are hidden and filled from the
/// network; returns the hidden mask (empty: nothing found, the image is written unchanged).
@discardableResult
public func inpaintAnnotations(_ url: URL, detector: AnnotationDetector = AnnotationDetector(), model: ImplicitModel,
                               options: InpaintOptions, out: URL) throws -> Mask {
    let hidden = detector.detect(try ImageIO.read(url))
    try inpaintImplicit(url, hidden: hidden, model: model, options: options, out: out)
    return hidden
}

/// `sonoseg implicit inpaint --auto`: for each image, the burned-in annotations `AnnotationDetector` finds are
/// written as STEM_annotations.png and, with a `model`, hidden and filled from it (`inpaintAnnotations`);
/// annotations.csv lists the hidden pixels per image. Returns how many images had any.
public func inpaintAnnotations(_ urls: [URL], model: ImplicitModel?, options: InpaintOptions, out: URL,
                               log: (String) -> Void) throws -> Int {
    try Folders.create(out)
    var csv = "image,hidden_pixels\n", found = 0
    for url in urls {
        let hidden = try model.map { try inpaintAnnotations(url, model: $0, options: options, out: out) }
            ?? AnnotationDetector().detect(try ImageIO.read(url))
        let count = hidden.pixels.reduce(0) { $0 + Int($1) }
        if count > 0 { found += 1 }
        try ImageIO.writePNG(hidden, to: out.appendingPathComponent(url.deletingPathExtension().lastPathComponent + "_annotations.png"))
        csv += CSVField.escape(url.lastPathComponent) + ",\(count)\n"
        log("\(url.lastPathComponent): \(count) annotation pixels hidden")
    }
    try AtomicFile.write(Data(csv.utf8), to: out.appendingPathComponent("annotations.csv"))
    return found
}

/// Inpainting: hides the pixels of `hidden` (1: hidden, the image's size), fits the latent on the visible pixels
/// only, and writes STEM_hidden.png (the input with the hidden pixels black), STEM_inpainted.png (the image with
/// them filled from the network), STEM_reconstruction.png, STEM_mask.png and STEM_overlay.png, all at the image's
/// own size. Returns the mean absolute intensity error over the hidden pixels (normalised units).
@discardableResult
public func inpaintImplicit(_ url: URL, hidden: Mask, model: ImplicitModel, options: InpaintOptions, out: URL) throws -> Double {
    try Folders.create(out)
    let grey = try ImageIO.readGray(url).image
    guard hidden.width == grey.width, hidden.height == grey.height else {
        throw PipelineError.invalidConfig("\(url.path): the hidden mask is \(hidden.width)x\(hidden.height), the image \(grey.width)x\(grey.height)")
    }
    func isHidden(_ x: Int, _ y: Int) -> Bool {
        x >= 0 && y >= 0 && x < grey.width && y < grey.height && hidden.pixels[y * grey.width + x] != 0
    }
    // a frame pixel is hidden when its centre maps onto a hidden image pixel
    let (input, g) = model.prepare(grey)
    var visible = [Bool](repeating: true, count: input.width * input.height)
    let sx = Double(g.contentWidth) / Double(g.sourceWidth), sy = Double(g.contentHeight) / Double(g.sourceHeight)
    for y in 0..<input.height {
        for x in 0..<input.width {
            let ox = Int(((Double(x) + 0.5 - Double(g.offsetX)) / sx).rounded(.down)), oy = Int(((Double(y) + 0.5 - Double(g.offsetY)) / sy).rounded(.down))
            if isHidden(ox, oy) { visible[y * input.width + x] = false }
        }
    }
    let prediction = model.infer([input.pixels], visible: [visible], steps: options.fit.steps, pointsPerStep: options.fit.pointsPerStep,
                                 restarts: options.fit.restarts, learningRate: options.fit.learningRate, seed: options.fit.seed)[0]
    // read the network at each source pixel's centre: resolution-free, no resampling
    let (intensity, probability) = model.sample(prediction, coords: ImplicitModel.frameCoordinates(g, width: grey.width, height: grey.height))
    // the reconstruction is in normalised units: map it back to the image's own range (min-max inverse)
    let lo = grey.pixels.min() ?? 0, hi = grey.pixels.max() ?? 1
    let reconstruction = intensity.map { lo + $0 * (hi - lo) }
    // The field is smoother than the speckle around a thin hole and may sit a little off its level there: add the
    // mean residual (image − field) of the visible pixels around each hidden one, so the fill meets its surround.
    let offset = localMeanResidual(grey.pixels, reconstruction, hidden: hidden, radius: 6)
    var holed = grey, filled = grey
    var error = 0.0, count = 0
    for i in 0..<(grey.width * grey.height) where hidden.pixels[i] != 0 {
        holed.pixels[i] = 0
        filled.pixels[i] = min(max(reconstruction[i] + offset[i], 0), 1)
        error += Double(abs(filled.pixels[i] - grey.pixels[i])); count += 1
    }
    let threshold = options.threshold ?? model.info.inference.threshold
    let mask = Mask(width: grey.width, height: grey.height, pixels: probability.map { $0 > threshold ? 1 : 0 })
    let stem = url.deletingPathExtension().lastPathComponent
    try ImageIO.writePNG(holed, to: out.appendingPathComponent("\(stem)_hidden.png"))
    try ImageIO.writePNG(filled, to: out.appendingPathComponent("\(stem)_inpainted.png"))
    try ImageIO.writePNG(GrayImage(width: grey.width, height: grey.height, pixels: reconstruction), to: out.appendingPathComponent("\(stem)_reconstruction.png"))
    try ImageIO.writePNG(mask, to: out.appendingPathComponent("\(stem)_mask.png"))
    try ImageIO.writePNG(try Overlay.render(filled, mask: mask), to: out.appendingPathComponent("\(stem)_overlay.png"))
    return count > 0 ? error / Double(count) / Double(max(hi - lo, 1e-6)) : 0
}

/// Per pixel: the mean of (image − field) over the visible pixels within a (2r+1)² window (0 where none is
/// visible), by summed-area tables.
func localMeanResidual(_ image: [Float], _ field: [Float], hidden: Mask, radius r: Int) -> [Float] {
    let w = hidden.width, h = hidden.height
    var sum = [Double](repeating: 0, count: (w + 1) * (h + 1)), n = sum
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x, seen = hidden.pixels[i] == 0
            let o = (y + 1) * (w + 1) + x + 1
            sum[o] = (seen ? Double(image[i] - field[i]) : 0) + sum[o - 1] + sum[o - w - 1] - sum[o - w - 2]
            n[o] = (seen ? 1 : 0) + n[o - 1] + n[o - w - 1] - n[o - w - 2]
        }
    }
    var out = [Float](repeating: 0, count: w * h)
    for y in 0..<h {
        for x in 0..<w where hidden.pixels[y * w + x] != 0 {
            let (x0, y0, x1, y1) = (max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1))
            func box(_ t: [Double]) -> Double { t[y1 * (w + 1) + x1] - t[y0 * (w + 1) + x1] - t[y1 * (w + 1) + x0] + t[y0 * (w + 1) + x0] }
            let count = box(n)
            out[y * w + x] = count > 0 ? Float(box(sum) / count) : 0
        }
    }
    return out
}
