import Foundation
import SonoBase
import SonoImaging

/// The series one DICOM input's objects out join (a new SEG series and a new SR series per file; a cine loop's
/// frames are instances 1, 2, … in them), and the file's own calibration: the only spacing the objects use.
struct DICOMSeries {
    var spacingMM: (x: Double, y: Double)?
    var segmentation = DICOMObjects.newSeriesUID()
    var report = DICOMObjects.newSeriesUID()
}

/// STEM_seg.dcm (DICOM Segmentation) and STEM_sr.dcm (TID 1500 Measurement Report) for one DICOM image or frame,
/// each written atomically, named in the row with their SOP Instance UIDs. A source that cannot be referenced
/// (no SOP Instance or Study Instance UID, …) or an object DCMTK cannot make is said in the row
/// (`dicom_refused`) and the log; its PNGs and row stay. A failed write of the files stops the run, as a PNG's does.
func writeDICOMObjects(_ row: inout LesionSummary, source: URL, frame: Int?, mask: Mask, series: DICOMSeries, stem: String,
                       modelName: String, out: URL, log: (String) -> Void) throws {
    var result = DICOMResult(source: source, frame: frame, mask: mask, spacingMM: series.spacingMM,
                             segmentationSeriesUID: series.segmentation, reportSeriesUID: series.report, instanceNumber: frame ?? 1,
                             softwareVersion: row.sonosegVersion, modelName: modelName, modelSHA256: row.modelSHA256)
    result.lesionFound = row.lesionFound
    (result.areaPixels, result.longAxisPixels, result.shortAxisPixels, result.depthPixels)
        = (Double(row.areaPixels), row.maxDiameterPixels, row.shortAxisPixels, row.depthPixels)
    if series.spacingMM != nil {
        // the row's mm values come from this same calibration (the file's wins over --spacing)
        (result.areaMM2, result.longAxisMM, result.shortAxisMM, result.depthMM) = (row.areaMM2, row.maxDiameterMM, row.shortAxisMM, row.depthMM)
    }
    (result.lesionProbability, result.malignancyProbability) = (row.lesionProbability, row.malignancyProbability)
    (result.pathology, result.birads) = (row.pathology, row.birads)
    let objects: DICOMObjects
    do { objects = try DICOMObjects.make(result) } catch {
        row.dicomRefused = "\(error)"
        log("\(row.input)\(frame.map { " frame \($0)" } ?? ""): \(error)")
        return
    }
    let (seg, sr) = ("\(stem)_seg.dcm", "\(stem)_sr.dcm")
    try AtomicFile.write(objects.segmentation, to: out.appendingPathComponent(seg))
    try AtomicFile.write(objects.report, to: out.appendingPathComponent(sr))
    (row.dicomSEG, row.dicomSR, row.dicomSEGUID, row.dicomSRUID) = (seg, sr, objects.segmentationUID, objects.reportUID)
}
