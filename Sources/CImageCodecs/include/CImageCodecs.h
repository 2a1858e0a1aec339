#pragma once
// PNG and JPEG decoding/encoding for SonoImaging. Written in C because libpng and libjpeg report errors by
// longjmp, which must never cross Swift frames. Every function returns 0 on success, or non-zero with a
// human-readable reason in `error` (2: the image is larger than the caller's pixel limit; 3: a valid file in a
// variant SonoSeg does not read; 1: anything else);
// no function aborts the process on corrupt input.
#include <stddef.h>
#include <stdint.h>

/// A decoded image: `pixels` is malloc'd, row-major, interleaved, `channels` samples per pixel (1 grey,
/// 2 grey+alpha, 3 RGB, 4 RGBA), `bytes_per_sample` 1 (8-bit), 2 (16-bit, native byte order) or 4 (32-bit float
/// as stored, any range: TIFF only). `frames` images of height × width × channels follow one another (a TIFF's
/// pages; 1 for PNG and JPEG). Free `pixels` with sono_free.
typedef struct {
    uint8_t *pixels;
    int width;
    int height;
    int channels;
    int bytes_per_sample;
    /// Bit depth stored in the file (1, 2, 4, 8 or 16), before expansion.
    int source_bit_depth;
    /// 1 when the file stored a palette (colour-mapped) image.
    int source_palette;
    int frames;
} SonoDecodedImage;

enum { SONO_ERROR_CAPACITY = 256 };

/// Decodes a PNG held in memory. Palette and 1/2/4-bit images are expanded to 8 bit; a tRNS chunk becomes an
/// alpha channel. With keep16 != 0 a 16-bit file stays 16-bit, otherwise it is reduced to 8 bit.
/// An image of more than `max_pixels` pixels (width × height, from the header, before any pixel memory is
/// allocated) is an error: a few kilobytes can otherwise claim gigabytes.
int sono_decode_png(const uint8_t *data, size_t length, int keep16, size_t max_pixels, SonoDecodedImage *out,
                    char error[SONO_ERROR_CAPACITY]);

/// Decodes a baseline or progressive JPEG held in memory to 8-bit grey (1 channel) or RGB (3 channels); CMYK and
/// YCCK files become RGB (Adobe-marked files as inverted CMYK, as Photoshop writes them).
/// A truncated stream and every corrupt-data warning of libjpeg are errors, not a grey-filled or garbled image;
/// more than `max_pixels` pixels is an error found from the header.
int sono_decode_jpeg(const uint8_t *data, size_t length, size_t max_pixels, SonoDecodedImage *out,
                     char error[SONO_ERROR_CAPACITY]);

/// Decodes every page of a TIFF held in memory as a frame (any photometric interpretation, bit depth and
/// compression libtiff reads) to 8-bit grey (1 channel, one-sample files) or RGB (3 channels); 32-bit float pages
/// (SampleFormat 3, strips, 1 or 3 samples) are handed back as stored, 4 bytes a sample. Pages unlike the first
/// (size, grey or colour, float or not) and other float layouts are status 3. Errors of libtiff are errors; more
/// than `max_pixels` pixels a page is an error found from the header.
int sono_decode_tiff(const uint8_t *data, size_t length, size_t max_pixels, SonoDecodedImage *out,
                     char error[SONO_ERROR_CAPACITY]);

/// Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels as PNG into a malloc'd buffer (free with
/// sono_free).
int sono_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out_data,
                    size_t *out_length, char error[SONO_ERROR_CAPACITY]);

void sono_free(void *pointer);
