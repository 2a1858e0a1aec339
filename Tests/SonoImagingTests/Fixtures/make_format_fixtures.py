#!/usr/bin/env python3
"""Writes the fixtures of valid formats SonoSeg once refused or half-read (issue 28 item 8), with Pillow and
tifffile as independent writers: cmyk.jpg, cmyk_plain.jpg and onebit.bmp here (Tests/SonoImagingTests/Fixtures), and the fuzz seeds
cmyk.jpg, onebit.bmp, pages.tif (3 pages), float32.tif and grey16.dcm (16-bit samples, whose length the
reader now checks against Rows × Columns × 2 bytes × frames) in fuzz/corpus. Run once by a developer
(`pip install pillow numpy tifffile pydicom`); not needed to build or test.
Usage: Tests/SonoImagingTests/Fixtures/make_format_fixtures.py   (from the repository root)"""
import io
from pathlib import Path

import numpy as np
import pydicom
import tifffile
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid
from PIL import Image

FIXTURES = Path("Tests/SonoImagingTests/Fixtures")
CORPUS = Path("fuzz/corpus")


def cmyk_jpeg():
    """32 x 16, four 8-pixel-wide patches (JPEG blocks): white, black (K), cyan (C), half black (K 128)."""
    patches = [(0, 0, 0, 0), (0, 0, 0, 255), (255, 0, 0, 0), (0, 0, 0, 128)]
    pixels = np.zeros((16, 32, 4), np.uint8)
    for k, cmyk in enumerate(patches):
        pixels[:, 8 * k:8 * k + 8] = cmyk
    # Pillow writes CMYK inverted under an Adobe APP14 marker, as Photoshop does.
    return Image.fromarray(pixels, "CMYK")


def plain_cmyk_jpeg():
    """cmyk_jpeg's patches as plain CMYK (255 = full ink) without the Adobe marker: Pillow always stores CMYK
    inverted, so it is given the inverse and the APP14 segment (FF EE) is cut out of its output."""
    inverse = Image.fromarray(255 - np.asarray(cmyk_jpeg()), "CMYK")
    buffer = io.BytesIO()
    inverse.save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    at = 2
    while data[at + 1] != 0xEE:
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return data[:at] + data[at + 2 + int.from_bytes(data[at + 2:at + 4], "big"):]


def one_bit_bmp():
    """13 x 5 (rows not a whole number of bytes): white where (x + 2y) % 3 == 0."""
    y, x = np.mgrid[0:5, 0:13]
    return Image.fromarray(((x + 2 * y) % 3 == 0).astype(np.uint8) * 255, "L").convert("1")


def pages():
    """Three 24 x 16 grey pages, each 40 brighter than the last."""
    y, x = np.mgrid[0:16, 0:24]
    return [Image.fromarray(((x + y) * 4 + 40 * k).astype(np.uint8), "L") for k in range(3)]


def float32():
    """24 x 16 float32 from -1 to 2.9 (x / 10 + y / 8 - 1): a range neither 0-1 nor 0-255."""
    y, x = np.mgrid[0:16, 0:24]
    return (x / 10 + y / 8 - 1).astype(np.float32)


def grey16_dicom():
    """24 x 16, 16-bit grey (12 bits stored), two frames."""
    y, x = np.mgrid[0:16, 0:24]
    pixels = np.stack([((x + y) * 90 + 500 * f).astype(np.uint16) for f in range(2)])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = UltrasoundImageStorage, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "US"
    ds.Rows, ds.Columns, ds.NumberOfFrames = 16, 24, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.tobytes()
    return ds


def main():
    for folder in (FIXTURES, CORPUS):
        cmyk_jpeg().save(folder / "cmyk.jpg", quality=95)
        one_bit_bmp().save(folder / "onebit.bmp")
    (FIXTURES / "cmyk_plain.jpg").write_bytes(plain_cmyk_jpeg())
    first, *rest = pages()
    first.save(CORPUS / "pages.tif", save_all=True, append_images=rest)
    tifffile.imwrite(CORPUS / "float32.tif", float32())
    grey16_dicom().save_as(CORPUS / "grey16.dcm", enforce_file_format=True)
    print("wrote cmyk.jpg, cmyk_plain.jpg, onebit.bmp to", FIXTURES, "and cmyk.jpg, onebit.bmp, pages.tif, float32.tif, grey16.dcm to", CORPUS)


if __name__ == "__main__":
    main()
