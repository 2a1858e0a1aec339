import Foundation
import Hummingbird
import NIOCore
import SonoMetrics
import SonoImaging
import SonoPipeline

/// Building answers: JSON from `Encodable` values or from a summary row with fields added, files, text.
enum Reply {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return bytes(try encoder.encode(value), type: "application/json; charset=utf-8", status: status)
    }

    /// A JSON object: `value`'s fields (encoded with its own keys) with `extra` laid over them.
    static func object<T: Encodable>(_ value: T, adding extra: [String: Any]) throws -> [String: Any] {
        var object = (try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value)) as? [String: Any]) ?? [:]
        for (k, v) in extra { object[k] = v }
        return object
    }

    static func jsonObject(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        bytes(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), type: "application/json; charset=utf-8", status: status)
    }

    static func bytes(_ data: Data, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ s: String, type: String = "text/plain; charset=utf-8") -> Response { bytes(Data(s.utf8), type: type) }

    /// A file's bytes with the content type its extension names (unknown: application/octet-stream).
    static func file(_ url: URL) throws -> Response {
        // regular files only: a FIFO or a device under the root would block the request forever
        guard let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType,
              type == .typeRegular else {
            throw APIError.notFound("\(url.lastPathComponent): no such file")
        }
        guard let data = try? Data(contentsOf: url) else { throw APIError.notFound("\(url.lastPathComponent): cannot be read") }
        return bytes(data, type: contentType(url.pathExtension))
    }

    static func contentType(_ ext: String) -> String {
        switch ext.lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "json": return "application/json; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "md", "txt", "log", "jsonl": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}

/// One lesion as the page draws it: a row of lesions.json plus the calipers' end points.
struct MeasuredLesion: Encodable {
    var lesion: Int
    var areaPixels: Int, areaMM2: Double?
    var maxDiameterPixels: Double, maxDiameterMM: Double?
    var shortAxisPixels: Double, shortAxisMM: Double?
    var depthPixels: Double?, depthMM: Double?
    var tallerThanWide: Double?, orientationDegrees: Double?
    var meanProbability: Double
    var longAxis: [Double]?, shortAxis: [Double]?
    var boundingBox: LesionSummary.Box?

    enum CodingKeys: String, CodingKey {
        case lesion, areaPixels = "area_px", areaMM2 = "area_mm2", maxDiameterPixels = "max_diameter_px", maxDiameterMM = "max_diameter_mm"
        case shortAxisPixels = "short_axis_px", shortAxisMM = "short_axis_mm", depthPixels = "depth_px", depthMM = "depth_mm"
        case tallerThanWide = "taller_than_wide", orientationDegrees = "orientation_deg", meanProbability = "mean_probability"
        case longAxis = "long_axis", shortAxis = "short_axis", boundingBox = "bbox"
    }

    /// Each lesion of `mask`, measured as `segment` measures them (largest first).
    static func all(mask: SonoImaging.Mask, probability: SonoImaging.GrayImage, spacing: PixelSpacing?) -> [MeasuredLesion] {
        LesionMeasurements.perComponent(mask: mask, probability: probability, spacing: spacing).enumerated().map { k, c in
            let m = c.measurements
            return MeasuredLesion(lesion: k + 1, areaPixels: m.areaPixels, areaMM2: m.areaMM2, maxDiameterPixels: m.maxDiameterPixels,
                                  maxDiameterMM: m.maxDiameterMM, shortAxisPixels: m.shortAxisPixels, shortAxisMM: m.shortAxisMM,
                                  depthPixels: m.depthPixels, depthMM: m.depthMM, tallerThanWide: m.tallerThanWide,
                                  orientationDegrees: m.orientationDegrees, meanProbability: c.meanProbability,
                                  longAxis: m.longAxis.map { $0.map { Double($0) } }, shortAxis: m.shortAxis,
                                  boundingBox: m.boundingBox.map { LesionSummary.Box(x: $0.x, y: $0.y, w: $0.width, h: $0.height) })
        }
    }
}

/// What /measure answers: the whole mask's area and each lesion.
struct Measurements: Encodable {
    var lesionFound: Bool
    var areaPixels: Int
    var areaMM2: Double?
    var spacingSource: String?
    var lesions: [MeasuredLesion]
    enum CodingKeys: String, CodingKey {
        case lesionFound = "lesion_found", areaPixels = "area_px", areaMM2 = "area_mm2", spacingSource = "spacing_source", lesions
    }
}
