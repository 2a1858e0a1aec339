#!/usr/bin/env python3
"""Writes the DICOM and TIFF seeds of fuzz/corpus with pydicom (a second, independent DICOM writer: SonoSeg's
own tests write theirs with DCMTK). Run once by a developer (`pip install pydicom numpy`); not needed to build
or test. Usage: scripts/make-dicom-fixtures.py fuzz/corpus"""
import struct
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, UltrasoundImageStorage, UltrasoundMultiFrameImageStorage, generate_uid


def image(frames, width=48, height=32):
    y, x = np.mgrid[0:height, 0:width]
    base = ((x + y) * 3 % 256).astype(np.uint8)
    base[8:20, 12:30] = 30  # a dark "lesion"
    return np.stack([np.clip(base.astype(int) + 8 * f, 0, 255).astype(np.uint8) for f in range(frames)])


def dataset(pixels, regions_mm=None, pixel_spacing_mm=None, syntax=ExplicitVRLittleEndian):
    frames = pixels.shape[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage if frames > 1 else UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "US"
    ds.Rows, ds.Columns = pixels.shape[1], pixels.shape[2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if regions_mm:
        region = pydicom.Dataset()
        region.RegionSpatialFormat, region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection = 1, 3, 3
        region.PhysicalDeltaX = region.PhysicalDeltaY = regions_mm / 10
        ds.SequenceOfUltrasoundRegions = [region]
    if pixel_spacing_mm:
        ds.PixelSpacing = [pixel_spacing_mm, pixel_spacing_mm]
    ds.PixelData = pixels.tobytes()
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, pixels if frames > 1 else pixels[0])
    return ds


def tiff(pixels):
    height, width = pixels.shape
    data = pixels.tobytes()
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8), (277, 3, 1),
               (278, 4, height), (279, 4, len(data))]
    out = b"II*\0" + struct.pack("<I", 8 + len(data)) + data + struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        out += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    return out + struct.pack("<I", 0)


def main(folder):
    folder = Path(folder)
    dataset(image(1), regions_mm=0.2).save_as(folder / "us-regions.dcm", enforce_file_format=True)
    dataset(image(3), pixel_spacing_mm=0.1, syntax=RLELossless).save_as(folder / "cine-rle.dcm", enforce_file_format=True)
    (folder / "grey8.tif").write_bytes(tiff(image(1)[0]))
    print("wrote us-regions.dcm, cine-rle.dcm, grey8.tif to", folder)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus")
