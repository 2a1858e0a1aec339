#pragma once
// DICOM bytes held in memory read into a DcmFileFormat the one way both decoders use (dicom.cpp for images,
// dicom_out.cpp for reading back SEG and SR objects): a stream over the buffer, marked complete, DCMTK's reader
// with the transfer syntax detected and no length limit beyond DCMTK's own.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <cstddef>
#include <cstdint>

inline OFCondition sono_read_buffer(const uint8_t *data, size_t length, DcmFileFormat &file) {
    DcmInputBufferStream stream;
    stream.setBuffer(data, (offile_off_t)length);
    stream.setEos();
    file.transferInit();
    OFCondition status = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
    return status;
}
