#!/usr/bin/env python3
"""DICOM objects out, read back by independent readers (pydicom, highdicom; dciodvfy where installed).

Makes ultrasound DICOM fixtures from the bundled samples with pydicom (a calibrated single frame, an uncalibrated
one segmented with --spacing, a three-frame cine loop, two files lacking the UIDs a SEG must reference, and one
with values DCMTK deems invalid), runs
`sonoseg segment` on them and on a PNG, then checks every STEM_seg.dcm and STEM_sr.dcm against the source file,
STEM_mask.png and the summary.json row. Prints `N passed, M failed` last; exits 1 on any failure.

Usage: check_dicom_out.py SONOSEG [--keep DIR]   (standard library, numpy, pydicom, highdicom)
"""
import argparse
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, UltrasoundMultiFrameImageStorage, generate_uid

ROOT = Path(__file__).resolve().parents[2]
SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
COPIED = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate", "StudyTime",
          "AccessionNumber", "StudyID", "ReferringPhysicianName"]
BIRADS = {"2": "397141009", "3": "397143007", "4": "397144001", "5": "397145000"}
PATHOLOGY = {"benign": "30807003", "malignant": "21594007"}

passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}{': ' + str(detail) if detail else ''}")


def read_png(path):
    """8-bit grey, grey+alpha, RGB or RGBA PNG (non-interlaced) → 2-D uint8 array (the first channel)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    at, idat, width = 8, b"", 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, f"{path}: depth {depth}, interlace {interlace}"
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], np.frombuffer(line[1:], np.uint8).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            a = cur[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 0:
                v = row[x]
            elif kind == 1:
                v = row[x] + a
            elif kind == 2:
                v = row[x] + b
            elif kind == 3:
                v = row[x] + (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                v = row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
            cur[x] = v & 0xFF
        out[y] = cur
        previous = cur
    return out[:, ::channels]


def ultrasound(path, frames, patient, spacing=None, regions_cm=None, drop=()):
    """An ultrasound DICOM file with the given frames (uint8, frames × rows × columns) and patient/study values."""
    multi = len(frames) > 1
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage if multi else UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = generate_uid(), generate_uid(), "US"
    for key, value in patient.items():
        setattr(ds, key, value)
    ds.Rows, ds.Columns = frames[0].shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if multi:
        ds.NumberOfFrames = len(frames)
    if spacing:
        ds.PixelSpacing = [spacing, spacing]
    if regions_cm:
        region = Dataset()
        region.RegionSpatialFormat, region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection = 1, 3, 3
        region.PhysicalDeltaX = region.PhysicalDeltaY = regions_cm
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = ds.Columns - 1, ds.Rows - 1
        ds.SequenceOfUltrasoundRegions = [region]
    ds.PixelData = np.stack(frames).astype(np.uint8).tobytes()
    for key in drop:
        delattr(ds, key)
    ds.save_as(str(path), enforce_file_format=False)
    return path


def run(sonoseg, inputs, out, *extra):
    done = subprocess.run([str(sonoseg), "segment", *map(str, inputs), "--out", str(out), *extra], capture_output=True, text=True)
    check(f"sonoseg segment {' '.join(p.name for p in inputs)} {' '.join(extra)}: exit 0", done.returncode == 0, done.stderr[-2000:])
    rows = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else []
    return rows, done.stdout + done.stderr


def near(a, b, tolerance=1e-3):
    return a is not None and b is not None and math.isclose(float(a), float(b), abs_tol=tolerance)


def content_items(item):
    for child in getattr(item, "ContentSequence", []):
        yield child
        yield from content_items(child)


def read_segmentation(path, label):
    """highdicom's reader. highdicom 0.28 requires Slice Thickness in the Pixel Measures macro, which PS3.3
    C.7.6.16.2.1 (CP 1426) requires of a Segmentation only with a Frame of Reference; 2-D ultrasound has none and
    SonoSeg writes none, so on that one complaint the pixel measures are checked here and highdicom reads the rest."""
    try:
        return hd.seg.segread(str(path)), ""
    except AttributeError as error:
        if "Pixel Measures" not in str(error):
            raise
        ds = pydicom.dcmread(str(path))
        shared = ds.SharedFunctionalGroupsSequence[0]
        check(f"{label}: Pixel Measures without Slice Thickness (no Frame of Reference)",
              "FrameOfReferenceUID" not in ds and "SliceThickness" not in shared.PixelMeasuresSequence[0])
        del shared.PixelMeasuresSequence
        return hd.seg.Segmentation.from_dataset(ds), " (highdicom read it without its Pixel Measures: Slice Thickness, see above)"


def check_objects(out, row, source_path, frame, calibrated, dciodvfy):
    label = row["input"] + (f" frame {frame}" if frame else "")
    source = pydicom.dcmread(str(source_path), stop_before_pixels=True)
    seg_path, sr_path = out / str(row.get("dicom_seg")), out / str(row.get("dicom_sr"))
    check(f"{label}: dicom_seg and dicom_sr written", seg_path.is_file() and sr_path.is_file(), row.get("dicom_refused"))
    if not (seg_path.is_file() and sr_path.is_file()):
        return
    mask = read_png(out / (Path(row["dicom_seg"]).name.removesuffix("_seg.dcm") + "_mask.png")) > 0

    # --- the Segmentation
    raw = pydicom.dcmread(str(seg_path))
    check(f"{label}: SEG SOP Class", raw.SOPClassUID == SEG_CLASS, raw.SOPClassUID)
    check(f"{label}: SEG SOP Instance UID in the row", raw.SOPInstanceUID == row["dicom_seg_uid"])
    check(f"{label}: SEG in a new series", raw.SeriesInstanceUID != source.SeriesInstanceUID and raw.Modality == "SEG")
    for key in COPIED:
        check(f"{label}: SEG {key} copied", str(raw.get(key, "")) == str(source.get(key, "")), f"{raw.get(key)!r} vs {source.get(key)!r}")
    check(f"{label}: SEG character set copied", raw.get("SpecificCharacterSet") == source.get("SpecificCharacterSet"))
    check(f"{label}: SEG geometry", (raw.Rows, raw.Columns) == (source.Rows, source.Columns) == mask.shape)
    seg, note = read_segmentation(seg_path, label)
    check(f"{label}: SEG binary, one segment", seg.segmentation_type.value == "BINARY" and seg.number_of_segments == 1)
    description = seg.get_segment_description(1)
    check(f"{label}: segment label", description.segment_label == "breast lesion")
    check(f"{label}: segmented property category SCT 49755003",
          (description.segmented_property_category.value, description.segmented_property_category.scheme_designator) == ("49755003", "SCT"))
    check(f"{label}: segmented property type SCT 4147007 Mass",
          (description.segmented_property_type.value, description.segmented_property_type.scheme_designator) == ("4147007", "SCT"))
    check(f"{label}: algorithm AUTOMATIC SonoSeg", description.algorithm_type.value == "AUTOMATIC" and raw.SegmentSequence[0].SegmentAlgorithmName == "SonoSeg")
    algorithm = raw.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    check(f"{label}: algorithm family AI, name SonoSeg, version and model SHA-256",
          algorithm.AlgorithmFamilyCodeSequence[0].CodeValue == "123110" and algorithm.AlgorithmName == "SonoSeg"
          and algorithm.AlgorithmVersion == row["sonoseg_version"] and row["model_sha256"] in algorithm.get("AlgorithmParameters", ""), algorithm)
    reference = raw.ReferencedSeriesSequence[0]
    check(f"{label}: ReferencedSeriesSequence names the source series and instance",
          reference.SeriesInstanceUID == source.SeriesInstanceUID
          and reference.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
          and reference.ReferencedInstanceSequence[0].ReferencedSOPClassUID == source.SOPClassUID)
    check(f"{label}: highdicom finds the source instance" + note,
          (source.StudyInstanceUID, source.SeriesInstanceUID, source.SOPInstanceUID) in seg.get_source_image_uids())
    derived = raw.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    check(f"{label}: derivation references the source frame",
          derived.ReferencedSOPInstanceUID == source.SOPInstanceUID and (int(derived.ReferencedFrameNumber) if "ReferencedFrameNumber" in derived else None) == frame)
    if frame:
        pixels = seg.get_pixels_by_source_frame(source_sop_instance_uid=source.SOPInstanceUID, source_frame_numbers=[frame], segment_numbers=[1])
    else:
        pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=[source.SOPInstanceUID], segment_numbers=[1])
    got = pixels[0, :, :, 0] > 0
    check(f"{label}: SEG pixels equal STEM_mask.png ({int(mask.sum())} lesion pixels)", got.shape == mask.shape and np.array_equal(got, mask),
          f"{int((got != mask).sum())} pixels differ")
    measures = raw.SharedFunctionalGroupsSequence[0].get("PixelMeasuresSequence")
    if calibrated:
        spacing = [float(v) for v in measures[0].PixelSpacing] if measures else None
        check(f"{label}: SEG pixel spacing is the source's", spacing is not None and all(near(s, calibrated, 1e-9) for s in spacing), spacing)
    else:
        check(f"{label}: SEG without pixel spacing (the source has none)", measures is None)

    # --- the measurement report
    sr_raw = pydicom.dcmread(str(sr_path))
    check(f"{label}: SR is Comprehensive SR", sr_raw.SOPClassUID == COMPREHENSIVE_SR, sr_raw.SOPClassUID)
    check(f"{label}: SR SOP Instance UID in the row", sr_raw.SOPInstanceUID == row["dicom_sr_uid"])
    check(f"{label}: SR in a new series", sr_raw.SeriesInstanceUID not in (source.SeriesInstanceUID, raw.SeriesInstanceUID) and sr_raw.Modality == "SR")
    for key in COPIED:
        check(f"{label}: SR {key} copied", str(sr_raw.get(key, "")) == str(source.get(key, "")), f"{sr_raw.get(key)!r} vs {source.get(key)!r}")
    check(f"{label}: SR is TID 1500", sr_raw.ContentTemplateSequence[0].TemplateIdentifier == "1500")
    sr = hd.sr.srread(str(sr_path))
    groups = sr.content.get_volumetric_roi_measurement_groups()
    check(f"{label}: SR has one measurement group", len(groups) == 1, len(groups))
    group = groups[0]
    check(f"{label}: finding Mass", group.finding_type is not None and group.finding_type.value == "4147007")
    segment_ref = group.referenced_segment
    referenced = segment_ref[0].ReferencedSOPSequence[0] if segment_ref is not None else None
    check(f"{label}: SR references the SEG's segment 1",
          referenced is not None and referenced.ReferencedSOPInstanceUID == raw.SOPInstanceUID and referenced.ReferencedSegmentNumber == 1)
    sources = [i.UID for i in content_items(sr_raw) if i.ValueType == "UIDREF" and i.ConceptNameCodeSequence[0].CodeValue == "121232"]
    check(f"{label}: SR source series for segmentation", sources == [source.SeriesInstanceUID], sources)
    images = [i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in content_items(sr_raw) if i.ValueType == "IMAGE"]
    check(f"{label}: SR image library references the source image", source.SOPInstanceUID in images, images)
    evidence = {(s.ReferencedSOPSequence[0].ReferencedSOPInstanceUID) for e in sr_raw.CurrentRequestedProcedureEvidenceSequence
                for s in e.ReferencedSeriesSequence}
    check(f"{label}: evidence lists the source and the SEG", {source.SOPInstanceUID, raw.SOPInstanceUID} <= evidence, evidence)
    measured = {m.name.meaning: (m.value, m.unit.value) for m in group.get_measurements()}
    length_unit, area_unit = ("mm", "mm2") if calibrated else ("{pixels}", "{pixels}")
    suffix = "mm" if calibrated else "px"
    expected = {"Area": (row["area_mm2"] if calibrated else row["area_px"], area_unit)}
    if row["lesion_found"]:
        expected.update({"Long axis": (row[f"max_diameter_{suffix}"], length_unit), "Short axis": (row[f"short_axis_{suffix}"], length_unit),
                         "Depth": (row[f"depth_{suffix}"], length_unit)})
    if row.get("lesion_probability") is not None:
        expected["Probability"] = (row["lesion_probability"], "1")
    if row.get("malignancy_probability") is not None:
        expected["Probability of cancer"] = (row["malignancy_probability"], "1")
    for name, (value, unit) in expected.items():
        got = measured.get(name)
        check(f"{label}: SR {name} = {value} {unit}", got is not None and near(got[0], value) and got[1] == unit, got)
    check(f"{label}: SR measures nothing else", set(measured) == set(expected), sorted(set(measured) ^ set(expected)))
    evaluations = {q.name.value: q.value.value for q in group.get_qualitative_evaluations()}
    if row.get("pathology"):
        check(f"{label}: SR pathology {row['pathology']}", evaluations.get("111042") == PATHOLOGY[row["pathology"]], evaluations)
    if row.get("birads"):
        check(f"{label}: SR BI-RADS {row['birads']}", evaluations.get("111005") == BIRADS[row["birads"]], evaluations)

    if dciodvfy:
        for path in (seg_path, sr_path):
            done = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
            lines = [l for l in (done.stdout + done.stderr).splitlines() if l.startswith(("Error", "Warning"))]
            errors = [l for l in lines if l.startswith("Error")]
            check(f"dciodvfy {path.name}: 0 errors", not errors, "\n".join(errors))
            for warning in (l for l in lines if l.startswith("Warning")):
                print(f"dciodvfy {path.name}: {warning}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sonoseg")
    parser.add_argument("--keep", help="leave the fixtures and outputs in this folder")
    args = parser.parse_args()
    sonoseg = Path(args.sonoseg).resolve()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="check-dicom-out-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    inputs = work / "in"
    inputs.mkdir(parents=True)
    dciodvfy = shutil.which("dciodvfy")
    print(f"check-dicom-out: pydicom {pydicom.__version__}, highdicom {hd.__version__}, "
          f"dciodvfy {'at ' + dciodvfy if dciodvfy else 'not installed (apt install dicom3tools)'}")

    person = {"PatientName": "Müller^Anna", "PatientID": "SONO-0001", "PatientBirthDate": "19700101", "PatientSex": "F",
              "StudyDate": "20260101", "StudyTime": "101500", "AccessionNumber": "ACC0001", "StudyID": "S1",
              "ReferringPhysicianName": "Referring^Doctor", "SpecificCharacterSet": "ISO_IR 192"}
    benign = read_png(ROOT / "samples/busi-benign-18.png")
    malignant = read_png(ROOT / "samples/busi-malignant-6.png")
    cine = read_png(ROOT / "samples/busi-benign-19.png")
    # a calibrated single frame (Sequence of Ultrasound Regions, 0.0085 cm per pixel)
    calibrated = ultrasound(inputs / "calibrated.dcm", [benign], person, regions_cm=0.0085)
    # an uncalibrated one, with some type 2 attributes absent (copied as absent: empty, never invented)
    bare = {"PatientName": "Doe^Jane", "PatientID": "SONO-0002", "StudyDate": "20260102"}
    plain = ultrasound(inputs / "uncalibrated.dcm", [malignant], bare)
    # a cine loop of three frames, Pixel Spacing 0.2 mm
    loop = ultrasound(inputs / "cine.dcm", [cine, cine[:, ::-1], np.clip(cine.astype(int) + 20, 0, 255)], dict(person, PatientID="SONO-0003"), spacing=0.2)
    # files a SEG cannot reference
    no_sop = ultrasound(inputs / "no-sop-uid.dcm", [malignant], bare, drop=("SOPInstanceUID",))
    no_study = ultrasound(inputs / "no-study-uid.dcm", [malignant], bare, drop=("StudyInstanceUID",))

    rows, _ = run(sonoseg, [calibrated, loop], work / "out")
    by_input = {(r["input"], r.get("frame")): r for r in rows}
    check("rows: calibrated 1 + cine 3", len(rows) == 4, [(r["input"], r.get("frame")) for r in rows])
    if ("calibrated.dcm", None) in by_input:
        check_objects(work / "out", by_input[("calibrated.dcm", None)], calibrated, None, 0.085, dciodvfy)
    for frame in (1, 2, 3):
        if ("cine.dcm", frame) in by_input:
            check_objects(work / "out", by_input[("cine.dcm", frame)], loop, frame, 0.2, dciodvfy)
    cine_rows = [by_input.get(("cine.dcm", f)) for f in (1, 2, 3)]
    if all(cine_rows):
        seg_series = {pydicom.dcmread(str(work / "out" / r["dicom_seg"])).SeriesInstanceUID for r in cine_rows}
        check("cine: the three frames' SEGs share one new series", len(seg_series) == 1)

    # uncalibrated, with --spacing: the row has mm, the SR (no calibration in the file) pixels
    rows, _ = run(sonoseg, [plain], work / "plain", "--spacing", "0.2")
    check("uncalibrated: one row with mm from --spacing", len(rows) == 1 and rows[0].get("area_mm2") is not None)
    if rows:
        check_objects(work / "plain", rows[0], plain, None, None, dciodvfy)

    # no SOP Instance UID / no Study Instance UID: PNGs and rows, no objects, a reason per file
    rows, log = run(sonoseg, [no_sop, no_study], work / "bad")
    check("bad: two rows", len(rows) == 2)
    for row in rows:
        stem = Path(row["input"]).stem
        check(f"{row['input']}: PNG outputs written", (work / "bad" / f"{stem}_mask.png").is_file() and (work / "bad" / f"{stem}_overlay.png").is_file())
        check(f"{row['input']}: refused with a reason", row.get("dicom_seg") is None and "UID" in str(row.get("dicom_refused")), row.get("dicom_refused"))
        check(f"{row['input']}: the reason is logged", f"{row['input']}: no DICOM SEG/SR" in log, log[-500:])
    check("bad: no .dcm written", not list((work / "bad").glob("*.dcm")))

    # values DCMTK calls invalid (an 80-character Patient ID, a malformed Study Date): objects still written, the
    # values copied as the source has them (dciodvfy then reports the source's errors, so it is not run here)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        odd = ultrasound(inputs / "odd-values.dcm", [malignant], dict(bare, PatientID="X" * 80, StudyDate="2026-01-0", PatientSex="Q"))
    rows, _ = run(sonoseg, [odd], work / "odd")
    if rows and rows[0].get("dicom_seg"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            written = [pydicom.dcmread(str(work / "odd" / rows[0][k])) for k in ("dicom_seg", "dicom_sr")]
            check("odd values: copied verbatim into SEG and SR",
                  all((d.PatientID, d.StudyDate, d.PatientSex) == ("X" * 80, "2026-01-0", "Q") for d in written))
    else:
        check("odd values: SEG and SR written", False, rows[0].get("dicom_refused") if rows else "no row")

    # PNG in: nothing DICOM out; --no-dicom-out: nothing for DICOM either
    rows, _ = run(sonoseg, [ROOT / "samples/busi-benign-22.png"], work / "png")
    check("png: no .dcm written, no dicom columns filled", not list((work / "png").glob("*.dcm")) and rows and rows[0].get("dicom_seg") is None)
    rows, _ = run(sonoseg, [plain], work / "off", "--no-dicom-out")
    check("--no-dicom-out: no .dcm written", not list((work / "off").glob("*.dcm")) and rows and rows[0].get("dicom_seg") is None)
    header = (work / "png" / "summary.csv").read_text().splitlines()[0].split(",")
    check("summary.csv ends with the DICOM columns", header[-5:] == ["dicom_seg", "dicom_sr", "dicom_seg_uid", "dicom_sr_uid", "dicom_refused"], header[-6:])

    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
