/// Pixel neighbourhood used by the morphology helpers.
public enum Connectivity: Int, Codable, Sendable {
    case four = 4
    case eight = 8
}

/// Connected lesion regions of a mask.
public struct ConnectedComponents: Sendable {
    /// Per pixel: 0 for background, else the component number 1...count.
    public var labels: [Int32]
    /// Pixel count of component k at index k − 1.
    public var areas: [Int]
    public var count: Int { areas.count }

    /// Labels `mask` by flood fill (iterative, so large lesions cannot overflow the stack).
    public init(_ mask: Mask, connectivity: Connectivity = .eight) {
        let w = mask.width, h = mask.height
        var labels = [Int32](repeating: 0, count: w * h)
        var areas = [Int]()
        var stack = [Int]()
        for start in 0..<(w * h) where mask.pixels[start] != 0 && labels[start] == 0 {
            let label = Int32(areas.count + 1)
            var area = 0
            labels[start] = label
            stack.append(start)
            while let p = stack.popLast() {
                area += 1
                let x = p % w, y = p / w
                for dy in -1...1 {
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        if connectivity == .four && dx != 0 && dy != 0 { continue }
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                        let q = ny * w + nx
                        if mask.pixels[q] != 0 && labels[q] == 0 {
                            labels[q] = label
                            stack.append(q)
                        }
                    }
                }
            }
            areas.append(area)
        }
        (self.labels, self.areas) = (labels, areas)
    }
}

extension Mask {
    /// Only the largest connected lesion region (ties: the one found first in raster order); an empty mask
    /// stays empty. Removes small false-positive specks from a predicted mask.
    public func largestComponent(connectivity: Connectivity = .eight) -> Mask {
        let components = ConnectedComponents(self, connectivity: connectivity)
        guard let best = components.areas.indices.max(by: { components.areas[$0] < components.areas[$1] }) else {
            return self
        }
        let keep = Int32(best + 1)
        return Mask(width: width, height: height, pixels: components.labels.map { $0 == keep ? 1 : 0 })
    }

    /// Removes connected regions smaller than `minimumArea` pixels.
    public func removingComponents(smallerThan minimumArea: Int, connectivity: Connectivity = .eight) -> Mask {
        let components = ConnectedComponents(self, connectivity: connectivity)
        return Mask(width: width, height: height, pixels: components.labels.map {
            $0 != 0 && components.areas[Int($0) - 1] >= minimumArea ? 1 : 0
        })
    }
}
