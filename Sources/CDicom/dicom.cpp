#include "CDicom.h"
#include "read_buffer.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

void set_error(char *error, const char *message) { std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%s", message); }

// Decoders for the compressed transfer syntaxes, once per process; DCMTK's own logging off (errors come back
// through the return value and `error`).
void register_codecs() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
        DJEncoderRegistration::registerCodecs();
    });
}

// Millimetres per pixel: the first ultrasound region calibrated in cm (units code 3), else Pixel Spacing, else
// Imager Pixel Spacing (both "row\column" in mm).
// The three UIDs that name an instance in a PACS; a value longer than a UID may be (64) is cut, never overflowed.
void find_uids(DcmDataset *ds, SonoDicomImage *out) {
    const struct { DcmTagKey key; char *dst; } uids[] = {
        {DCM_StudyInstanceUID, out->study_uid}, {DCM_SeriesInstanceUID, out->series_uid}, {DCM_SOPInstanceUID, out->sop_uid}};
    for (const auto &u : uids) {
        const char *value = nullptr;
        if (ds->findAndGetString(u.key, value).good() && value) std::snprintf(u.dst, sizeof out->sop_uid, "%s", value);
    }
}

void find_spacing(DcmDataset *ds, SonoDicomImage *out) {
    DcmItem *region = nullptr;
    for (unsigned long i = 0; ds->findAndGetSequenceItem(DCM_SequenceOfUltrasoundRegions, region, (int)i).good() && region; i++) {
        Uint16 ux = 0, uy = 0;
        Float64 dx = 0, dy = 0;
        region->findAndGetUint16(DCM_PhysicalUnitsXDirection, ux);
        region->findAndGetUint16(DCM_PhysicalUnitsYDirection, uy);
        region->findAndGetFloat64(DCM_PhysicalDeltaX, dx);
        region->findAndGetFloat64(DCM_PhysicalDeltaY, dy);
        if (ux == 3 && uy == 3 && dx > 0 && dy > 0 && dx < 10 && dy < 10) {
            out->spacing_x = dx * 10; out->spacing_y = dy * 10; out->spacing_source = 1;
            return;
        }
        region = nullptr;
    }
    const DcmTagKey keys[2] = {DCM_PixelSpacing, DCM_ImagerPixelSpacing};
    for (int k = 0; k < 2; k++) {
        Float64 row = 0, column = 0;
        if (ds->findAndGetFloat64(keys[k], row, 0).good() && ds->findAndGetFloat64(keys[k], column, 1).good()
            && row > 0 && column > 0 && row < 100 && column < 100) {
            out->spacing_x = column; out->spacing_y = row; out->spacing_source = 2 + k;
            return;
        }
    }
}

// 24576 -> "24,576": the byte counts in messages are read by people comparing them with a header dump.
std::string grouped(unsigned long long n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); i++) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string counted(unsigned long long n, const char *noun) {
    return grouped(n) + " " + noun + (n == 1 ? "" : "s");
}

// The sample layout the pixel data must follow. DCMTK decodes any BitsAllocated from 1 to 32 and pads missing
// pixel data with zeros, which turns a wrong header or a cut file into a plausible but wrong image (a black lower
// half, "no lesion found"); SonoSeg refuses these instead. Returns 0, or 1 (corrupt) or 3 (valid but unsupported).
int check_sample_layout(DcmDataset *ds, Uint16 *samples, Uint16 *allocated, char *error) {
    Uint16 stored = 0;
    if (ds->findAndGetUint16(DCM_SamplesPerPixel, *samples).bad() || *samples == 0) *samples = 1;
    if (ds->findAndGetUint16(DCM_BitsAllocated, *allocated).bad()) { set_error(error, "no BitsAllocated in the header"); return 1; }
    if (ds->findAndGetUint16(DCM_BitsStored, stored).bad()) stored = *allocated;
    if (*allocated == 0 || (*allocated != 1 && *allocated % 8 != 0)) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY,
                      "BitsAllocated is %u, not 1 or a whole number of bytes as DICOM requires; its pixels would be garbage", *allocated);
        return 1;
    }
    if (stored == 0 || stored > *allocated) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "BitsStored is %u but BitsAllocated only %u; a sample cannot store more bits than it has",
                      stored, *allocated);
        return 1;
    }
    if (*allocated != 8 && *allocated != 16) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "BitsAllocated is %u; SonoSeg reads 8- or 16-bit samples", *allocated);
        return 3;
    }
    return 0;
}

// Bytes one PackBits-coded RLE segment expands to (DICOM PS3.5 G.3.1), counting only: a header of 16 little-endian
// 32-bit words gives the segment count and each segment's offset within the fragment.
unsigned long long rle_segment_length(const Uint8 *data, Uint32 length, Uint32 start, Uint32 end) {
    unsigned long long produced = 0;
    for (Uint32 at = start; at < end && at < length;) {
        const int n = (Sint8)data[at++];
        if (n >= 0) { produced += (unsigned)n + 1; at += (unsigned)n + 1; }
        else if (n != -128) { produced += (unsigned)(1 - n); at += 1; }
    }
    return produced;
}

Uint32 word(const Uint8 *p) { return p[0] | (Uint32)p[1] << 8 | (Uint32)p[2] << 16 | (Uint32)p[3] << 24; }

// The shortest RLE segment of one frame's fragment in bytes, or -1 when its header is unreadable.
long long shortest_rle_segment(const Uint8 *data, Uint32 length) {
    if (length < 64 || word(data) == 0 || word(data) > 15) return -1;
    const Uint32 segments = word(data);
    long long shortest = -1;
    for (Uint32 k = 0; k < segments; k++) {
        const Uint32 start = word(data + 4 + 4 * k), end = k + 1 < segments ? word(data + 8 + 4 * k) : length;
        const long long produced = (long long)rle_segment_length(data, length, start, end);
        if (shortest < 0 || produced < shortest) shortest = produced;
    }
    return shortest;
}

// Width and height in a JPEG or JPEG-LS frame header (SOFn, or SOF55 for JPEG-LS), found by walking the marker
// segments from SOI (table data may hold any byte); false when there is none.
bool jpeg_size(const Uint8 *data, Uint32 length, unsigned *width, unsigned *height) {
    if (length < 4 || data[0] != 0xFF || data[1] != 0xD8) return false;
    for (Uint32 at = 2; at + 9 < length;) {
        if (data[at] != 0xFF) return false;
        const Uint8 m = data[at + 1];
        if (m == 0xFF) { at += 1; continue; }  // fill byte
        if ((m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7) {
            *height = (unsigned)data[at + 5] << 8 | data[at + 6];
            *width = (unsigned)data[at + 7] << 8 | data[at + 8];
            return true;
        }
        at += 2 + ((unsigned)data[at + 2] << 8 | data[at + 3]);
    }
    return false;
}

// DCMTK's decoders size their output from the header and leave what the compressed data lacks black, so a decoded
// length always adds up; what the compressed data itself holds is checked instead: a fragment per frame at least,
// RLE segments of Rows × Columns bytes each, a JPEG frame header of Columns × Rows. (A JPEG frame may span
// several fragments, so only the first fragment's frame header is read.)
int check_compressed_frames(DcmDataset *ds, Uint16 rows, Uint16 columns, unsigned long frames, char *error) {
    DcmElement *element = nullptr;
    DcmPixelSequence *sequence = nullptr;
    const E_TransferSyntax xfer = ds->getOriginalXfer();
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || !element
        || ((DcmPixelData *)element)->getEncapsulatedRepresentation(xfer, nullptr, sequence).bad() || !sequence) {
        set_error(error, "compressed pixel data without its fragments");
        return 1;
    }
    const unsigned long fragments = sequence->card() > 0 ? sequence->card() - 1 : 0;  // item 0: the offset table
    if (fragments < frames) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "compressed pixel data holds %s; NumberOfFrames %lu needs one at least per frame",
                      counted(fragments, "fragment").c_str(), frames);
        return 1;
    }
    const bool rle = xfer == EXS_RLELossless;
    for (unsigned long f = 0; f < (rle ? frames : 1); f++) {
        DcmPixelItem *item = nullptr;
        Uint8 *data = nullptr;
        if (sequence->getItem(item, f + 1).bad() || !item || item->getUint8Array(data).bad() || !data) {
            std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "compressed frame %lu is unreadable", f + 1);
            return 1;
        }
        const Uint32 length = item->getLength();
        if (rle) {
            const long long shortest = shortest_rle_segment(data, length);
            if (shortest < (long long)rows * columns) {
                std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "RLE frame %lu decodes to %s bytes per segment; Rows %u × Columns %u need %s",
                              f + 1, shortest < 0 ? "no" : grouped((unsigned long long)shortest).c_str(), rows, columns,
                              grouped((unsigned long long)rows * columns).c_str());
                return 1;
            }
        } else {
            unsigned width = 0, height = 0;
            if (jpeg_size(data, length, &width, &height) && (width != columns || height != rows)) {
                std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "the JPEG data is %u × %u pixels; Columns %u × Rows %u say %u × %u",
                              width, height, columns, rows, columns, rows);
                return 1;
            }
        }
    }
    return 0;
}

// Pixel data must hold every sample the header promises (DCMTK pads what is missing with black); compressed data is
// checked fragment by fragment, then decoded and its decoded length checked the same way.
int check_pixel_length(DcmDataset *ds, Uint16 rows, Uint16 columns, Uint16 samples, Uint16 allocated, unsigned long frames,
                       char *error) {
    const bool compressed = DcmXfer(ds->getOriginalXfer()).isEncapsulated();
    if (compressed) {
        if (int refused = check_compressed_frames(ds, rows, columns, frames, error)) return refused;
        OFCondition status = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (status.bad()) {
            std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%s pixel data could not be decoded (%s)",
                          DcmXfer(ds->getOriginalXfer()).getXferName(), status.text());
            return 1;
        }
    }
    DcmElement *element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || !element) { set_error(error, "no Pixel Data"); return 1; }
    const unsigned long long held = element->getLength();
    const unsigned long long bytes = allocated / 8;
    const unsigned long long needed = (unsigned long long)rows * columns * samples * bytes * frames;
    if (held >= needed) return 0;
    std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%spixel data holds %s bytes; Rows %u × Columns %u × %s × %s × %s need %s",
                  compressed ? "decoded " : "", grouped(held).c_str(), rows, columns, counted(samples, "sample").c_str(),
                  counted(bytes, "byte").c_str(), counted(frames, "frame").c_str(), grouped(needed).c_str());
    return 1;
}

int decode(const uint8_t *data, size_t length, size_t max_pixels, SonoDicomImage *out, char *error) {
    register_codecs();
    if (length < 132 || std::memcmp(data + 128, "DICM", 4) != 0) { set_error(error, "not a DICOM file (no DICM at byte 128)"); return 1; }
    DcmFileFormat file;
    OFCondition status = sono_read_buffer(data, length, file);
    if (status.bad()) { std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%s", status.text()); return 1; }
    DcmDataset *ds = file.getDataset();
    Uint16 rows = 0, columns = 0;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, columns);
    if (rows == 0 || columns == 0 || !ds->tagExists(DCM_PixelData)) { set_error(error, "DICOM without an image (no Rows, Columns or Pixel Data)"); return 1; }
    if ((size_t)rows * columns > max_pixels) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "image is %ux%u = %.1f megapixels, above the limit of %.1f (--max-pixels)",
                      columns, rows, (double)rows * columns / 1e6, (double)max_pixels / 1e6);
        return 2;
    }
    Sint32 declared = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, declared).bad() || declared < 1) declared = 1;
    if (declared > 10000 || (double)declared * rows * columns > 4e9) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%d frames of %ux%u is more than SonoSeg reads (10,000 frames, 4 gigapixels)",
                      (int)declared, columns, rows);
        return 2;
    }
    Uint16 samples = 1, allocated = 0;
    if (int refused = check_sample_layout(ds, &samples, &allocated, error)) return refused;
    if (int refused = check_pixel_length(ds, rows, columns, samples, allocated, (unsigned long)declared, error)) return refused;
    find_spacing(ds, out);
    find_uids(ds, out);
    DicomImage image(ds, ds->getCurrentXfer(), CIF_MayDetachPixelData, 0, (unsigned long)declared);
    if (image.getStatus() != EIS_Normal) {
        std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "unreadable DICOM image (%s)", DicomImage::getString(image.getStatus()));
        return 1;
    }
    const int channels = image.isMonochrome() ? 1 : 3;
    // Deeper than 8 bits: stretch the stored range to 8 bits (ultrasound is almost always 8-bit already).
    if (channels == 1 && image.getDepth() > 8) image.setMinMaxWindow();
    const unsigned long frames = image.getFrameCount();
    const size_t frame_bytes = (size_t)image.getWidth() * image.getHeight() * channels;
    if (frames == 0 || image.getWidth() != columns || image.getHeight() != rows) { set_error(error, "DICOM frames do not match Rows/Columns"); return 1; }
    uint8_t *pixels = (uint8_t *)std::malloc(frame_bytes * frames);
    if (!pixels) { set_error(error, "out of memory"); return 1; }
    for (unsigned long f = 0; f < frames; f++) {
        const void *p = image.getOutputData(8, f, 0);
        if (!p || image.getOutputDataSize(8) < frame_bytes) {
            std::free(pixels);
            std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "DICOM frame %lu could not be decoded", f + 1);
            return 1;
        }
        std::memcpy(pixels + f * frame_bytes, p, frame_bytes);
    }
    out->pixels = pixels;
    out->width = (int)columns;
    out->height = (int)rows;
    out->frames = (int)frames;
    out->channels = channels;
    return 0;
}

}  // namespace

extern "C" int sono_decode_dicom(const uint8_t *data, size_t length, size_t max_pixels, SonoDicomImage *out,
                                 char error[SONO_DICOM_ERROR_CAPACITY]) {
    std::memset(out, 0, sizeof(*out));
    error[0] = 0;
    try {
        return decode(data, length, max_pixels, out, error);
    } catch (...) {
        set_error(error, "the decoder failed");
        return 1;
    }
}

extern "C" void sono_dicom_free(void *pointer) { std::free(pointer); }

extern "C" int sono_write_dicom(const char *path, const uint8_t *pixels, int width, int height, int frames, int channels,
                                double spacing_mm, int spacing_mode, int transfer, char error[SONO_DICOM_ERROR_CAPACITY]) {
    error[0] = 0;
    try {
        register_codecs();
        DcmFileFormat file;
        DcmDataset *ds = file.getDataset();
        char uid[100];
        ds->putAndInsertString(DCM_SOPClassUID, frames > 1 ? UID_UltrasoundMultiframeImageStorage : UID_UltrasoundImageStorage);
        ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
        ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
        ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
        ds->putAndInsertString(DCM_Modality, "US");
        ds->putAndInsertUint16(DCM_Rows, (Uint16)height);
        ds->putAndInsertUint16(DCM_Columns, (Uint16)width);
        ds->putAndInsertUint16(DCM_SamplesPerPixel, (Uint16)channels);
        ds->putAndInsertString(DCM_PhotometricInterpretation, channels == 1 ? "MONOCHROME2" : "RGB");
        if (channels == 3) ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
        ds->putAndInsertUint16(DCM_BitsAllocated, 8);
        ds->putAndInsertUint16(DCM_BitsStored, 8);
        ds->putAndInsertUint16(DCM_HighBit, 7);
        ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
        if (frames > 1) ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
        ds->putAndInsertUint8Array(DCM_PixelData, pixels, (unsigned long)width * height * channels * frames);
        if (spacing_mode == 1) {
            DcmItem *region = nullptr;
            ds->findOrCreateSequenceItem(DCM_SequenceOfUltrasoundRegions, region, -2);
            region->putAndInsertUint16(DCM_RegionSpatialFormat, 1);
            region->putAndInsertUint16(DCM_PhysicalUnitsXDirection, 3);
            region->putAndInsertUint16(DCM_PhysicalUnitsYDirection, 3);
            region->putAndInsertFloat64(DCM_PhysicalDeltaX, spacing_mm / 10);
            region->putAndInsertFloat64(DCM_PhysicalDeltaY, spacing_mm / 10);
        } else if (spacing_mode == 2) {
            char value[64];
            std::snprintf(value, sizeof value, "%g\\%g", spacing_mm, spacing_mm);
            ds->putAndInsertString(DCM_PixelSpacing, value);
        }
        E_TransferSyntax xfer = transfer == 1 ? EXS_RLELossless : transfer == 2 ? EXS_JPEGProcess1 : EXS_LittleEndianExplicit;
        DcmRLERepresentationParameter rle;
        DJ_RPLossy jpeg(95);
        DcmRepresentationParameter *parameter = transfer == 1 ? (DcmRepresentationParameter *)&rle : transfer == 2 ? &jpeg : nullptr;
        if (transfer != 0 && (ds->chooseRepresentation(xfer, parameter).bad() || !ds->canWriteXfer(xfer))) {
            set_error(error, "cannot encode the pixel data in that transfer syntax");
            return 1;
        }
        OFCondition status = file.saveFile(path, xfer);
        if (status.bad()) { std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "cannot write %s (%s)", path, status.text()); return 1; }
        return 0;
    } catch (...) {
        set_error(error, "the DICOM writer failed");
        return 1;
    }
}
