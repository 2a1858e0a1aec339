import CDicom
import Foundation

/// What the DICOM objects out say about one segmented image (one frame of a multi-frame file): the mask and the
/// summary row's values. Nothing here names the patient: CDicom reads the source file's header again and copies its
/// Patient and Study attributes into the new objects itself.
public struct DICOMResult: Sendable {
    /// The DICOM file segmented, and the frame (1-based) of a multi-frame file (nil for a single frame).
    public var source: URL
    public var frame: Int?
    /// The mask as STEM_mask.png holds it.
    public var mask: Mask
    /// The file's own calibration (mm per pixel): never `--spacing`; without it the SR gives sizes in pixels.
    public var spacingMM: (x: Double, y: Double)?
    /// The series the SEG and the SR join (one each per source file: `DICOMObjects.newSeriesUID()`) and the
    /// instance number within them.
    public var segmentationSeriesUID: String
    public var reportSeriesUID: String
    public var instanceNumber: Int
    public var softwareVersion: String
    public var modelName: String
    public var modelSHA256: String
    public var lesionFound = false
    public var areaPixels = 0.0, longAxisPixels = 0.0, shortAxisPixels = 0.0
    public var depthPixels: Double?
    public var areaMM2: Double?, longAxisMM: Double?, shortAxisMM: Double?, depthMM: Double?
    public var lesionProbability: Double?, malignancyProbability: Double?
    /// "benign" / "malignant", and the BI-RADS category ("2" … "5"), when the diagnosis ran.
    public var pathology: String?, birads: String?

    public init(source: URL, frame: Int?, mask: Mask, spacingMM: (x: Double, y: Double)?, segmentationSeriesUID: String,
                reportSeriesUID: String, instanceNumber: Int, softwareVersion: String, modelName: String, modelSHA256: String) {
        (self.source, self.frame, self.mask, self.spacingMM) = (source, frame, mask, spacingMM)
        (self.segmentationSeriesUID, self.reportSeriesUID, self.instanceNumber) = (segmentationSeriesUID, reportSeriesUID, instanceNumber)
        (self.softwareVersion, self.modelName, self.modelSHA256) = (softwareVersion, modelName, modelSHA256)
    }
}

/// A DICOM Segmentation and a TID 1500 Measurement Report (Comprehensive SR), encoded, with their SOP Instance UIDs.
public struct DICOMObjects: Sendable {
    public var segmentation: Data
    public var report: Data
    public var segmentationUID: String
    public var reportUID: String

    /// Why no objects were made for an image.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// The source cannot be referenced (no SOP Instance, Study or Series Instance UID, another geometry):
        /// nothing is invented for it.
        case refused(String)
        case failed(String)
        public var description: String {
            switch self {
            case .refused(let reason): return "no DICOM SEG/SR: \(reason)"
            case .failed(let reason): return "DICOM SEG/SR not written: \(reason)"
            }
        }
    }

    /// A new series UID (DCMTK's generator, under its root).
    public static func newSeriesUID() -> String {
        var uid = [CChar](repeating: 0, count: 68)
        uid.withUnsafeMutableBufferPointer { sono_dicom_new_uid($0.baseAddress) }
        return String(cString: uid)
    }

    /// Encodes the SEG and the SR for `result` (CDicom over DCMTK's dcmseg and dcmsr); the caller writes them.
    public static func make(_ result: DICOMResult) throws -> DICOMObjects {
        guard result.mask.width > 0, result.mask.height > 0 else { throw Failure.failed("empty image") }
        let nan = Double.nan
        var objects = SonoDicomObjects()
        var message = [CChar](repeating: 0, count: Int(SONO_DICOM_ERROR_CAPACITY))
        let status: Int32 = result.source.path.withCString { source in
            result.segmentationSeriesUID.withCString { segSeries in
                result.reportSeriesUID.withCString { srSeries in
                    result.softwareVersion.withCString { version in
                        result.modelName.withCString { model in
                            result.modelSHA256.withCString { sha in
                                (result.pathology ?? "").withCString { pathology in
                                    (result.birads ?? "").withCString { birads in
                                        result.mask.pixels.withUnsafeBufferPointer { mask in
                                            var request = SonoDicomResult()
                                            request.source_path = source
                                            request.frame = Int32(result.frame ?? 0)
                                            request.mask = mask.baseAddress
                                            (request.width, request.height) = (Int32(result.mask.width), Int32(result.mask.height))
                                            (request.spacing_x, request.spacing_y) = (result.spacingMM?.x ?? 0, result.spacingMM?.y ?? 0)
                                            (request.seg_series_uid, request.sr_series_uid) = (segSeries, srSeries)
                                            request.instance_number = Int32(result.instanceNumber)
                                            (request.software_version, request.model_name, request.model_sha256) = (version, model, sha)
                                            request.lesion_found = result.lesionFound ? 1 : 0
                                            (request.area_px, request.long_axis_px) = (result.areaPixels, result.longAxisPixels)
                                            (request.short_axis_px, request.depth_px) = (result.shortAxisPixels, result.depthPixels ?? nan)
                                            (request.area_mm2, request.long_axis_mm) = (result.areaMM2 ?? nan, result.longAxisMM ?? nan)
                                            (request.short_axis_mm, request.depth_mm) = (result.shortAxisMM ?? nan, result.depthMM ?? nan)
                                            request.lesion_probability = result.lesionProbability ?? nan
                                            request.malignancy_probability = result.malignancyProbability ?? nan
                                            (request.pathology, request.birads) = (pathology, birads)
                                            return message.withUnsafeMutableBufferPointer { sono_write_dicom_objects(&request, &objects, $0.baseAddress) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        defer {
            sono_dicom_free(objects.seg)
            sono_dicom_free(objects.sr)
        }
        guard status == 0, let seg = objects.seg, let sr = objects.sr else {
            let reason = String(cString: message)
            throw status == 4 ? Failure.refused(reason) : Failure.failed(reason.isEmpty ? "unknown" : reason)
        }
        func text<T>(_ field: T) -> String { withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        return DICOMObjects(segmentation: Data(bytes: seg, count: objects.seg_length), report: Data(bytes: sr, count: objects.sr_length),
                            segmentationUID: text(objects.seg_uid), reportUID: text(objects.sr_uid))
    }
}
