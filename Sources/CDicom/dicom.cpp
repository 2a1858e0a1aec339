#include "CDicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
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

int decode(const uint8_t *data, size_t length, size_t max_pixels, SonoDicomImage *out, char *error) {
    register_codecs();
    if (length < 132 || std::memcmp(data + 128, "DICM", 4) != 0) { set_error(error, "not a DICOM file (no DICM at byte 128)"); return 1; }
    DcmInputBufferStream stream;
    stream.setBuffer(data, (offile_off_t)length);
    stream.setEos();
    DcmFileFormat file;
    file.transferInit();
    OFCondition status = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
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
    find_spacing(ds, out);
    find_uids(ds, out);
    DicomImage image(ds, ds->getOriginalXfer(), CIF_MayDetachPixelData, 0, (unsigned long)declared);
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
