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

/// DICOM objects out: what one segmented image (one frame of a multi-frame file) gives, for a DICOM Segmentation
/// and a TID 1500 Measurement Report. Values are the summary row's; NaN where the row has none. No patient
/// attribute passes through here: the source file's header is read again in C++ (`source_path`) and its Patient
/// and Study attributes are copied into the new objects.
typedef struct {
    /// The DICOM file that was segmented, and the frame (1-based) of a multi-frame file; 0 for a single frame.
    const char *source_path;
    int frame;
    /// rows × columns bytes, non-zero where the lesion is (the STEM_mask.png pixels).
    const uint8_t *mask;
    int width;
    int height;
    /// Millimetres per pixel along columns (x) and rows (y) from the file's own calibration; 0 when it has none
    /// (then the SEG has no Pixel Measures and the SR gives sizes in pixels).
    double spacing_x;
    double spacing_y;
    /// The series the SEG and the SR join (from sono_dicom_new_uid, one each per source file), and the instance
    /// number within them (the frame number, 1 for a single frame).
    const char *seg_series_uid;
    const char *sr_series_uid;
    int instance_number;
    /// Algorithm identification: SonoSeg's version, the model's file name and SHA-256 (hex).
    const char *software_version;
    const char *model_name;
    const char *model_sha256;
    int lesion_found;
    double area_px, long_axis_px, short_axis_px, depth_px;
    double area_mm2, long_axis_mm, short_axis_mm, depth_mm;
    double lesion_probability, malignancy_probability;
    /// "benign", "malignant" or "" (no diagnosis); BI-RADS "2" to "5" or "".
    const char *pathology;
    const char *birads;
} SonoDicomResult;

/// The encoded Part 10 files (malloc'd; free with sono_dicom_free) and their SOP Instance UIDs.
typedef struct {
    uint8_t *seg;
    size_t seg_length;
    uint8_t *sr;
    size_t sr_length;
    char seg_uid[68];
    char sr_uid[68];
} SonoDicomObjects;

/// A new UID (DCMTK's dcmGenerateUniqueIdentifier under its series root), for the series a file's objects join.
void sono_dicom_new_uid(char uid[68]);

/// Encodes the SEG and the SR for one image in memory (the caller writes them atomically). Returns 0; 4 when the
/// source cannot be referenced (no SOP Class, SOP Instance, Study or Series Instance UID, or another geometry
/// than `mask`): nothing is invented for it; 1 for anything else. Never aborts on bad input.
int sono_write_dicom_objects(const SonoDicomResult *in, SonoDicomObjects *out, char error[SONO_DICOM_ERROR_CAPACITY]);

/// What a test reads back from an encoded SEG or SR through DCMTK (dcmseg's and dcmsr's own readers).
typedef struct {
    char sop_class[68];
    char sop_instance[68];
    char study_uid[68];
    char series_uid[68];
    /// SEG: the source image its frame derives from, and that image's frame (0: none named); segments, size and
    /// the first frame unpacked to one byte per pixel (0/1, malloc'd: free with sono_dicom_free).
    char referenced_sop_instance[68];
    int referenced_frame;
    int segments;
    int rows;
    int columns;
    uint8_t *pixels;
    /// SR: the numeric measurements (NUM content items under Imaging Measurements).
    int measurements;
} SonoDicomObjectInfo;

/// Reads an object sono_write_dicom_objects made: a Segmentation with DcmSegmentation, an SR with DSRDocument.
/// Returns 0, or 1 with the reason in `error`.
int sono_read_dicom_object(const uint8_t *data, size_t length, SonoDicomObjectInfo *out, char error[SONO_DICOM_ERROR_CAPACITY]);

#ifdef __cplusplus
}
#endif
