#pragma once
// DICOM decoding for SonoImaging through DCMTK (C++ behind a C interface, as CImageCodecs wraps libpng).
// Returns 0 on success, or non-zero with a human-readable reason in `error` (2: an image larger than the
// caller's pixel limit; 3: a valid file SonoSeg does not read, such as 32-bit samples; 1: anything else).
// Never aborts or throws on corrupt input.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Every frame of a DICOM image as 8-bit samples: `pixels` holds `frames` frames of height × width ×
/// `channels` (1 grey, 3 RGB) bytes, malloc'd (free with sono_dicom_free). `spacing_x/y` are millimetres per
/// pixel along columns/rows, 0 when the file gives none; `spacing_source` says where they came from
/// (0 none, 1 the Sequence of Ultrasound Regions, 2 Pixel Spacing, 3 Imager Pixel Spacing).
typedef struct {
    uint8_t *pixels;
    int width;
    int height;
    int frames;
    int channels;
    double spacing_x;
    double spacing_y;
    int spacing_source;
    /// Study, Series and SOP Instance UIDs ("" when absent): what traces a result back to its examination.
    /// No patient attribute is read.
    char study_uid[68];
    char series_uid[68];
    char sop_uid[68];
} SonoDicomImage;

enum { SONO_DICOM_ERROR_CAPACITY = 256 };

/// Decodes a DICOM Part 10 file held in memory (uncompressed, RLE, JPEG and JPEG-LS transfer syntaxes). More
/// than `max_pixels` pixels in one frame is an error found from the header, before pixel data is decoded. So is
/// BitsAllocated other than 8 or 16, BitsStored above BitsAllocated, and pixel data (decoded, when compressed)
/// shorter than Rows × Columns × SamplesPerPixel × BitsAllocated/8 × NumberOfFrames bytes: DCMTK would pad it
/// with black.
int sono_decode_dicom(const uint8_t *data, size_t length, size_t max_pixels, SonoDicomImage *out,
                      char error[SONO_DICOM_ERROR_CAPACITY]);

void sono_dicom_free(void *pointer);

/// Writes 8-bit frames (height × width × channels each, channels 1 or 3) as an ultrasound DICOM file at `path`,
/// for tests and fixtures: `transfer` 0 explicit little endian, 1 RLE lossless, 2 JPEG baseline (lossy);
/// `spacing_mode` 0 no spacing, 1 a Sequence of Ultrasound Regions in cm, 2 Pixel Spacing, both `spacing_mm`.
int sono_write_dicom(const char *path, const uint8_t *pixels, int width, int height, int frames, int channels,
                     double spacing_mm, int spacing_mode, int transfer, char error[SONO_DICOM_ERROR_CAPACITY]);

#ifdef __cplusplus
}
#endif
