#include "CImageCodecs.h"

#include <jerror.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

void sono_free(void *pointer) { free(pointer); }

static void set_error(char *error, const char *message) {
    snprintf(error, SONO_ERROR_CAPACITY, "%s", message);
}

/// Writes the size-limit message and returns 1 when width × height exceeds max_pixels.
static int over_pixel_limit(size_t width, size_t height, size_t max_pixels, char *error) {
    if (width == 0 || height == 0 || width * height <= max_pixels) return 0;
    snprintf(error, SONO_ERROR_CAPACITY, "image is %zux%zu = %.1f megapixels, above the limit of %.1f (--max-pixels)",
             width, height, (double)width * (double)height / 1e6, (double)max_pixels / 1e6);
    return 1;
}

// MARK: - PNG

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
    char *error;
} PngSource;

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
} PngSink;

static void png_error_fn(png_structp png, png_const_charp message) {
    char *error = (char *)png_get_error_ptr(png);
    // Keep the first reason: libpng may report a consequence after the cause.
    if (error && error[0] == 0) set_error(error, message);
    png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp message) {
    (void)png; (void)message;  // warnings (e.g. bad gamma chunk) do not make pixels wrong
}

static void png_read_fn(png_structp png, png_bytep out, png_size_t count) {
    PngSource *source = (PngSource *)png_get_io_ptr(png);
    if (source->length - source->offset < count) png_error(png, "file is truncated");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

int sono_decode_png(const uint8_t *data, size_t length, int keep16, size_t max_pixels, SonoDecodedImage *out,
                    char error[SONO_ERROR_CAPACITY]) {
    memset(out, 0, sizeof(*out));
    error[0] = 0;
    if (length < 8 || png_sig_cmp(data, 0, 8) != 0) { set_error(error, "not a PNG signature"); return 1; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, png_error_fn, png_warning_fn);
    if (!png) { set_error(error, "out of memory"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); set_error(error, "out of memory"); return 1; }
    // volatile: modified between setjmp and a possible longjmp.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels); free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (error[0] == 0) set_error(error, "corrupt PNG");
        return strncmp(error, "image is ", 9) == 0 ? 2 : 1;
    }
    PngSource source = { data, length, 0, error };
    png_set_read_fn(png, &source, png_read_fn);
    png_set_user_limits(png, 65536, 65536);
    png_read_info(png, info);
    if (over_pixel_limit(png_get_image_width(png, info), png_get_image_height(png, info), max_pixels, error)) {
        png_error(png, error);
    }
    int bit_depth = png_get_bit_depth(png, info);
    int color_type = png_get_color_type(png, info);
    out->source_bit_depth = bit_depth;
    out->source_palette = color_type == PNG_COLOR_TYPE_PALETTE;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) {
        if (keep16) {
            const uint16_t probe = 1;
            if (*(const uint8_t *)&probe == 1) png_set_swap(png);  // PNG is big-endian; hand back native order
        } else {
            png_set_strip_16(png);
        }
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    pixels = (uint8_t *)malloc(row_bytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->bytes_per_sample = out_depth == 16 ? 2 : 1;
    out->frames = 1;
    return 0;
}

static void png_write_fn(png_structp png, png_bytep in, png_size_t count) {
    PngSink *sink = (PngSink *)png_get_io_ptr(png);
    if (sink->length + count > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity < sink->length + count) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(sink->data, capacity);
        if (!grown) png_error(png, "out of memory");
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->length, in, count);
    sink->length += count;
}

static void png_flush_fn(png_structp png) { (void)png; }

int sono_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out_data,
                    size_t *out_length, char error[SONO_ERROR_CAPACITY]) {
    error[0] = 0;
    *out_data = NULL;
    *out_length = 0;
    if (channels != 1 && channels != 3) { set_error(error, "only 1 or 3 channels can be written"); return 1; }
    if (width <= 0 || height <= 0) { set_error(error, "image has no pixels"); return 1; }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, png_error_fn, png_warning_fn);
    if (!png) { set_error(error, "out of memory"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); set_error(error, "out of memory"); return 1; }
    PngSink sink = { NULL, 0, 0 };
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(sink.data); free(rows);
        png_destroy_write_struct(&png, &info);
        if (error[0] == 0) set_error(error, "PNG encoding failed");
        return 1;
    }
    png_set_write_fn(png, &sink, png_write_fn, png_flush_fn);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)pixels + (size_t)y * (size_t)width * (size_t)channels;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out_data = sink.data;
    *out_length = sink.length;
    return 0;
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *error;
} JpegErrorManager;

static void jpeg_error_exit_fn(j_common_ptr info) {
    JpegErrorManager *manager = (JpegErrorManager *)info->err;
    char message[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, message);
    if (manager->error[0] == 0) set_error(manager->error, message);
    longjmp(manager->jump, 1);
}

static void jpeg_emit_message_fn(j_common_ptr info, int level) {
    // libjpeg only warns about corrupt data (a truncated stream, bad Huffman codes, extraneous bytes) and goes on
    // with grey or garbled pixels; a segmentation of such pixels would be silently wrong, so each is an error.
    if (level < 0) jpeg_error_exit_fn(info);
}

/// CMYK to RGB by the naive subtractive formula (no colour profile: ultrasound is grey, and this only has to get
/// grey right). Photoshop, and libraries following it, write an Adobe APP14 marker and store CMYK inverted
/// (0 = full ink); files without the marker store plain CMYK (255 = full ink).
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t width, int adobe_inverted) {
    for (size_t x = 0; x < width; x++) {
        const uint8_t *p = cmyk + 4 * x;
        unsigned k = adobe_inverted ? p[3] : 255u - p[3];
        for (int c = 0; c < 3; c++) {
            unsigned paper = adobe_inverted ? p[c] : 255u - p[c];
            rgb[3 * x + c] = (uint8_t)((paper * k + 127) / 255);
        }
    }
}

int sono_decode_jpeg(const uint8_t *data, size_t length, size_t max_pixels, SonoDecodedImage *out,
                     char error[SONO_ERROR_CAPACITY]) {
    memset(out, 0, sizeof(*out));
    error[0] = 0;
    if (length < 3 || data[0] != 0xFF || data[1] != 0xD8) { set_error(error, "not a JPEG signature"); return 1; }
    struct jpeg_decompress_struct info;
    JpegErrorManager manager;
    manager.error = error;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = jpeg_error_exit_fn;
    manager.base.emit_message = jpeg_emit_message_fn;
    uint8_t *volatile pixels = NULL;
    if (setjmp(manager.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&info);
        if (error[0] == 0) set_error(error, "corrupt JPEG");
        return strncmp(error, "image is ", 9) == 0 ? 2 : 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)length);
    jpeg_read_header(&info, TRUE);
    if (over_pixel_limit(info.image_width, info.image_height, max_pixels, error)) longjmp(manager.jump, 1);
    // Grey stays grey; CMYK and YCCK (which libjpeg turns into CMYK) are read as CMYK and converted here, as
    // libjpeg has no CMYK to RGB conversion; every other space becomes RGB through libjpeg.
    const int cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
    info.out_color_space = info.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&info);
    int channels = cmyk ? 3 : info.output_components;
    size_t row_bytes = (size_t)info.output_width * (size_t)channels;
    pixels = (uint8_t *)malloc(row_bytes * info.output_height + (cmyk ? (size_t)info.output_width * 4 : 0));
    if (!pixels) { set_error(error, "out of memory"); longjmp(manager.jump, 1); }
    // CMYK rows land past the RGB image, one at a time, and are converted into place.
    uint8_t *cmyk_row = pixels + row_bytes * info.output_height;
    while (info.output_scanline < info.output_height) {
        uint8_t *rgb = pixels + info.output_scanline * row_bytes;
        JSAMPROW row = cmyk ? cmyk_row : rgb;
        jpeg_read_scanlines(&info, &row, 1);
        if (cmyk) cmyk_to_rgb(cmyk_row, rgb, info.output_width, info.saw_Adobe_marker);
    }
    jpeg_finish_decompress(&info);
    out->pixels = pixels;
    out->width = (int)info.output_width;
    out->height = (int)info.output_height;
    out->channels = channels;
    out->bytes_per_sample = 1;
    out->source_bit_depth = 8;
    out->source_palette = 0;
    out->frames = 1;
    jpeg_destroy_decompress(&info);
    return 0;
}

// MARK: - TIFF

#include <tiffio.h>

// libtiff reports through process-wide handlers; the message of the decode running on this thread lands here.
static _Thread_local char *tiff_error_target = NULL;

static void tiff_error_fn(const char *module, const char *format, va_list args) {
    (void)module;
    if (tiff_error_target && tiff_error_target[0] == 0) vsnprintf(tiff_error_target, SONO_ERROR_CAPACITY, format, args);
}

// Warnings (unknown tags, odd but readable layouts) are not errors in TIFF, unlike corrupt JPEG data.
static void tiff_warning_fn(const char *module, const char *format, va_list args) { (void)module; (void)format; (void)args; }

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
} TiffSource;

static tmsize_t tiff_read(thandle_t h, void *buffer, tmsize_t size) {
    TiffSource *s = (TiffSource *)h;
    if (size < 0 || s->offset >= s->length) return 0;
    size_t n = (size_t)size < s->length - s->offset ? (size_t)size : s->length - s->offset;
    memcpy(buffer, s->data + s->offset, n);
    s->offset += n;
    return (tmsize_t)n;
}
static tmsize_t tiff_write(thandle_t h, void *buffer, tmsize_t size) { (void)h; (void)buffer; (void)size; return -1; }
static toff_t tiff_seek(thandle_t h, toff_t offset, int whence) {
    TiffSource *s = (TiffSource *)h;
    uint64_t base = whence == SEEK_CUR ? s->offset : whence == SEEK_END ? s->length : 0;
    uint64_t target = base + offset;
    if (target > s->length) return (toff_t)-1;
    s->offset = (size_t)target;
    return target;
}
static int tiff_close(thandle_t h) { (void)h; return 0; }
static toff_t tiff_size(thandle_t h) { return ((TiffSource *)h)->length; }
static int tiff_map(thandle_t h, void **base, toff_t *size) { (void)h; (void)base; (void)size; return 0; }
static void tiff_unmap(thandle_t h, void *base, toff_t size) { (void)h; (void)base; (void)size; }

/// What one TIFF page holds, from its directory.
typedef struct {
    uint32_t width, height;
    uint16_t samples, bits, format;
} TiffPage;

static TiffPage tiff_page(TIFF *tif) {
    TiffPage page = {0, 0, 1, 1, SAMPLEFORMAT_UINT};
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page.width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page.height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &page.samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &page.bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &page.format);
    return page;
}

/// Floating-point pages are read as they are (32-bit, one or three interleaved samples, in strips); libtiff's
/// RGBA reader refuses them. Returns 0, or 3 for the valid float layouts SonoSeg does not read.
static int tiff_float_supported(TIFF *tif, TiffPage page, char *error) {
    uint16_t planar = PLANARCONFIG_CONTIG;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    if (page.bits != 32) { snprintf(error, SONO_ERROR_CAPACITY, "%u-bit floating-point samples; SonoSeg reads 32-bit", page.bits); return 3; }
    if (page.samples != 1 && page.samples != 3) {
        snprintf(error, SONO_ERROR_CAPACITY, "floating-point pixels of %u samples; SonoSeg reads 1 (grey) or 3 (RGB)", page.samples);
        return 3;
    }
    if (TIFFIsTiled(tif) || planar != PLANARCONFIG_CONTIG) {
        set_error(error, "tiled or planar floating-point pixels; SonoSeg reads interleaved strips");
        return 3;
    }
    return 0;
}

/// One float page, rows top first, into `out` (width × height × samples floats).
static int tiff_read_float_page(TIFF *tif, TiffPage page, float *out, char *error) {
    if (TIFFScanlineSize(tif) != (tmsize_t)page.width * page.samples * 4) { set_error(error, "TIFF row size does not match its width"); return 1; }
    for (uint32_t y = 0; y < page.height; y++) {
        if (TIFFReadScanline(tif, out + (size_t)y * page.width * page.samples, y, 0) < 0 || error[0] != 0) {
            if (error[0] == 0) set_error(error, "corrupt TIFF image data");
            return 1;
        }
    }
    return 0;
}

/// One page of any other kind through libtiff's RGBA reader, top row first, whatever the photometric
/// interpretation, bit depth or compression, as 8-bit grey (one-sample pages) or RGB into `out`.
static int tiff_read_rgba_page(TIFF *tif, TiffPage page, int channels, uint8_t *out, uint32_t *rgba, char *error) {
    char message[1024] = {0};
    if (!TIFFRGBAImageOK(tif, message)) { snprintf(error, SONO_ERROR_CAPACITY, "unsupported TIFF: %s", message); return 1; }
    if (!TIFFReadRGBAImageOriented(tif, page.width, page.height, rgba, ORIENTATION_TOPLEFT, 1) || error[0] != 0) {
        if (error[0] == 0) set_error(error, "corrupt TIFF image data");
        return 1;
    }
    for (size_t i = 0; i < (size_t)page.width * page.height; i++) {
        uint32_t p = rgba[i];
        if (channels == 1) out[i] = (uint8_t)TIFFGetR(p);
        else { out[3 * i] = (uint8_t)TIFFGetR(p); out[3 * i + 1] = (uint8_t)TIFFGetG(p); out[3 * i + 2] = (uint8_t)TIFFGetB(p); }
    }
    return 0;
}

/// A page that is not laid out like the first cannot be a frame of the same scan; 3 (valid but unsupported).
static int tiff_page_differs(TiffPage first, TiffPage page, int index, char *error) {
    int first_float = first.format == SAMPLEFORMAT_IEEEFP, page_float = page.format == SAMPLEFORMAT_IEEEFP;
    if (page.width == first.width && page.height == first.height && (page.samples == 1) == (first.samples == 1) && page_float == first_float) return 0;
    snprintf(error, SONO_ERROR_CAPACITY,
             "page %d is %ux%u, %u sample%s%s, page 1 %ux%u, %u sample%s%s; SonoSeg reads a TIFF's pages as the frames of one scan, which must be alike",
             index + 1, page.width, page.height, page.samples, page.samples == 1 ? "" : "s", page_float ? " (float)" : "",
             first.width, first.height, first.samples, first.samples == 1 ? "" : "s", first_float ? " (float)" : "");
    return 3;
}

int sono_decode_tiff(const uint8_t *data, size_t length, size_t max_pixels, SonoDecodedImage *out,
                     char error[SONO_ERROR_CAPACITY]) {
    memset(out, 0, sizeof(*out));
    error[0] = 0;
    if (length < 8 || !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M'))) {
        set_error(error, "not a TIFF signature");
        return 1;
    }
    TIFFSetErrorHandler(tiff_error_fn);
    TIFFSetWarningHandler(tiff_warning_fn);
    tiff_error_target = error;
    TiffSource source = {data, length, 0};
    TIFF *tif = TIFFClientOpen("memory", "rm", (thandle_t)&source, tiff_read, tiff_write, tiff_seek, tiff_close,
                               tiff_size, tiff_map, tiff_unmap);
    int status = 1;
    uint32_t *rgba = NULL;
    uint8_t *pixels = NULL;
    if (!tif) { if (error[0] == 0) set_error(error, "corrupt TIFF header"); goto done; }
    const TiffPage first = tiff_page(tif);
    if (first.width == 0 || first.height == 0) { if (error[0] == 0) set_error(error, "TIFF without a width or height"); goto done; }
    if (over_pixel_limit(first.width, first.height, max_pixels, error)) { status = 2; goto done; }
    const int pages = TIFFNumberOfDirectories(tif);
    if (pages < 1 || pages > 10000 || (double)pages * first.width * first.height > 4e9) {
        snprintf(error, SONO_ERROR_CAPACITY, "%d pages of %ux%u is more than SonoSeg reads (10,000 pages, 4 gigapixels)", pages, first.width, first.height);
        status = 2;
        goto done;
    }
    const int is_float = first.format == SAMPLEFORMAT_IEEEFP;
    if (is_float && (status = tiff_float_supported(tif, first, error)) != 0) goto done;
    status = 1;
    const int channels = first.samples == 1 ? 1 : 3;
    const size_t page_bytes = (size_t)first.width * first.height * channels * (is_float ? 4 : 1);
    pixels = (uint8_t *)malloc(page_bytes * (size_t)pages);
    if (!is_float) rgba = (uint32_t *)malloc((size_t)first.width * first.height * sizeof(uint32_t));
    if (!pixels || (!is_float && !rgba)) { set_error(error, "out of memory"); goto done; }
    // Every page is a frame (a cine loop or a z-stack), laid out like the first; reduced-resolution copies
    // (thumbnails, SubfileType bit 0) are not pages.
    int frames = 0;
    for (int d = 0; d < pages; d++) {
        if (!TIFFSetDirectory(tif, (tdir_t)d)) { if (error[0] == 0) snprintf(error, SONO_ERROR_CAPACITY, "TIFF page %d is unreadable", d + 1); goto done; }
        uint32_t subfile = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &subfile);
        if (d > 0 && (subfile & FILETYPE_REDUCEDIMAGE)) continue;
        const TiffPage page = tiff_page(tif);
        if ((status = tiff_page_differs(first, page, d, error)) != 0) goto done;
        if (is_float && (status = tiff_float_supported(tif, page, error)) != 0) goto done;
        status = is_float ? tiff_read_float_page(tif, page, (float *)(pixels + page_bytes * frames), error)
                          : tiff_read_rgba_page(tif, page, channels, pixels + page_bytes * frames, rgba, error);
        if (status != 0) goto done;
        frames++;
    }
    out->pixels = pixels;
    pixels = NULL;
    out->width = (int)first.width;
    out->height = (int)first.height;
    out->channels = channels;
    out->frames = frames;
    out->bytes_per_sample = is_float ? 4 : 1;
    out->source_bit_depth = is_float ? 32 : first.bits;
    status = 0;
done:
    free(rgba);
    free(pixels);
    if (tif) TIFFClose(tif);
    tiff_error_target = NULL;
    return status;
}
