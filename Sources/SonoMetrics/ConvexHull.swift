/// Convex hull of integer points (Andrew's monotone chain, O(n log n)).
enum ConvexHull {
    struct Point: Equatable {
        var x: Int
        var y: Int
    }

    /// Hull vertices in counter-clockwise order (in x-right, y-up terms), without collinear points; the input
    /// itself (deduplicated) when it has fewer than three distinct points.
    static func hull(_ input: [Point]) -> [Point] {
        var points = input.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        points = points.enumerated().filter { $0.offset == 0 || points[$0.offset - 1] != $0.element }.map(\.element)
        guard points.count >= 3 else { return points }
        func cross(_ o: Point, _ a: Point, _ b: Point) -> Int {
            (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
        }
        var hull = [Point]()
        for p in points {
            while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
            hull.append(p)
        }
        let lowerCount = hull.count + 1
        for p in points.reversed().dropFirst() {
            while hull.count >= lowerCount && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 {
                hull.removeLast()
            }
            hull.append(p)
        }
        hull.removeLast()  // the first point again
        return hull
    }
}
