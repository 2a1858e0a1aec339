import Foundation
import SonoImaging
@testable import SonoData
import XCTest

/// Builds small datasets in each supported layout in a temporary folder, written with SonoImaging's own
/// PNG writer. Image content is a function of a seed, so distinct seeds give distinct (non-duplicate) images.
struct SyntheticDatasets {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sonodata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func folder(_ path: String) throws -> URL {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A grey image whose pixels depend on `seed`.
    static func image(seed: Int, width: Int = 12, height: Int = 10) -> Image {
        let pixels = (0..<(width * height)).map { UInt8(truncatingIfNeeded: ($0 * 7 + seed * 31) % 251) }
        return Image(width: width, height: height, channels: 1, pixels: .uint8(pixels))
    }

    /// A mask with a lesion rectangle [x0, x1) × [y0, y1).
    static func mask(width: Int = 12, height: Int = 10, x: Range<Int> = 2..<6, y: Range<Int> = 3..<7) -> Mask {
        var mask = Mask(width: width, height: height)
        for yy in y { for xx in x { mask[xx, yy] = 1 } }
        return mask
    }

    func write(_ image: Image, _ path: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ImageIO.writePNG(image, to: url)
    }

    func write(_ mask: Mask, _ path: String) throws { try write(mask.toImage(), path) }

    func writeText(_ text: String, _ path: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// BUSI-like: 3 benign (one with _mask_1/_mask_2), 2 malignant (one a duplicate of a benign image),
    /// 2 normal; plus a mask without image, a corrupt image, a non-binary mask, a size-mismatched mask and
    /// an empty mask on a benign image.
    func makeBUSI() throws -> URL {
        let base = "busi/Dataset_BUSI_with_GT"
        try write(Self.image(seed: 1), "\(base)/benign/benign (1).png")
        try write(Self.mask(x: 0..<3, y: 0..<3), "\(base)/benign/benign (1)_mask.png")
        try write(Self.mask(x: 8..<10, y: 6..<9), "\(base)/benign/benign (1)_mask_1.png")
        try write(Self.mask(x: 5..<6, y: 0..<1), "\(base)/benign/benign (1)_mask_2.png")
        try write(Self.image(seed: 2), "\(base)/benign/benign (2).png")
        // Non-binary mask: a grey level 128 besides 0 and 255.
        var grey = Self.mask().toImage()
        if case var .uint8(values) = grey.pixels { values[0] = 128; grey.pixels = .uint8(values) }
        try write(grey, "\(base)/benign/benign (2)_mask.png")
        try write(Self.image(seed: 3), "\(base)/benign/benign (10).png")
        try write(Mask(width: 12, height: 10), "\(base)/benign/benign (10)_mask.png")  // empty on a lesion image
        try write(Self.image(seed: 4), "\(base)/malignant/malignant (1).png")
        try write(Self.mask(width: 8, height: 8), "\(base)/malignant/malignant (1)_mask.png")  // size mismatch
        try write(Self.image(seed: 1), "\(base)/malignant/malignant (2).png")  // duplicate of benign (1)
        try write(Self.mask(), "\(base)/malignant/malignant (2)_mask.png")
        try write(Self.mask(), "\(base)/malignant/malignant (3)_mask.png")  // mask without image
        try write(Self.image(seed: 5), "\(base)/normal/normal (1).png")
        try write(Mask(width: 12, height: 10), "\(base)/normal/normal (1)_mask.png")
        try writeText("not an image", "\(base)/normal/normal (2).png")  // unreadable
        try write(Mask(width: 12, height: 10), "\(base)/normal/normal (2)_mask.png")
        return root.appendingPathComponent("busi")
    }

    /// BUS-BRA-like: patients 1 (two images, l and r), 2, 3, 4; a CSV row for a missing image; an image not
    /// in the CSV.
    func makeBUSBRA(patients: Int = 4) throws -> URL {
        let base = "bus-bra/BUSBRA"
        var csv = "ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX\n"
        for p in 1...patients {
            let sides = p == 1 ? ["l", "r"] : ["s"]
            for side in sides {
                let id = String(format: "bus_%04d-%@", p, side)
                let pathology = p % 2 == 0 ? "malignant" : "benign"
                csv += "\(id),\(p),fibroadenoma,\(pathology),\(p % 2 == 0 ? 4 : 3),GE,12,10,left,\"[2,3,4,4]\"\n"
                try write(Self.image(seed: 100 + p * 3 + sides.firstIndex(of: side)!), "\(base)/Images/\(id).png")
                try write(Self.mask(), "\(base)/Masks/mask_\(String(id.dropFirst(4))).png")
            }
        }
        csv += "bus_0999-l,999,x,benign,2,GE,12,10,left,\"[0,0,1,1]\"\n"
        try write(Self.image(seed: 77), "\(base)/Images/bus_0500-s.png")
        try writeText(csv, "\(base)/bus_data.csv")
        return root.appendingPathComponent("bus-bra")
    }

    /// UDIAT-like: 3 pairs, one mask without image.
    func makeUDIAT() throws -> URL {
        for i in 1...3 {
            try write(Self.image(seed: 200 + i), String(format: "udiat/original/%06d.png", i))
            try write(Self.mask(), String(format: "udiat/GT/%06d.png", i))
        }
        try write(Self.mask(), "udiat/GT/000009.png")
        return root.appendingPathComponent("udiat")
    }

    /// Paired: 3 pairs (one image stored as PNG under a .jpg name), an image without mask, labels.csv with a
    /// row naming a missing image, and a zero-byte image.
    func makePaired() throws -> URL {
        try write(Self.image(seed: 301), "paired/images/a.png")
        try write(Self.image(seed: 302), "paired/images/b.jpg")  // PNG bytes, wrong extension
        try write(Self.image(seed: 303), "paired/images/c.png")
        try write(Self.image(seed: 304), "paired/images/lonely.png")
        try writeText("", "paired/images/zero.png")
        for stem in ["a", "b", "c", "zero"] { try write(Self.mask(), "paired/masks/\(stem).png") }
        try writeText("image,label\na.png,benign\nb,malignant\nc.png,benign\nghost.png,benign\n", "paired/labels.csv")
        return root.appendingPathComponent("paired")
    }
}
