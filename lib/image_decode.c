/* Decoding of untrusted image bytes: sizes are checked against alexnet_limits from the header
 * before anything is allocated. PNG goes to stb_image, guarded: the inputs that stb_image 2.27
 * (Debian 12's) mishandles are refused or made safe before stb sees them. JPEG goes to
 * libjpeg-turbo (jpeg_decode.c). */
#include "image.h"
#include "byte_order.h"

#include "error.h"
#include "fileio.h"
#include "input_limits.h"
#include "stb.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *kind_of(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "PNG";
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return "JPEG";
    return NULL;
}

/* Width and height from a PNG's IHDR chunk (always the first), for a header stb refused: when
 * they exceed the limits the caller reports them rather than a vaguer "damaged header". */
static bool png_header_size(const uint8_t *data, size_t size, int *w, int *h)
{
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0)
        return false;
    const uint32_t width = read_be32(data + 16), height = read_be32(data + 20);
    if (width > INT32_MAX || height > INT32_MAX)
        return false;
    *w = (int)width;
    *h = (int)height;
    return true;
}

/* stb_image 2.27 copies a leading zero-length IDAT chunk to a NULL buffer (undefined behaviour the
 * compiler may build on, found by tests/test_fuzz.c under UBSan). Such chunks are legal but never
 * written by real encoders, so files that begin their image data with one are refused. */
static bool png_has_empty_first_idat(const uint8_t *data, size_t size)
{
    size_t at = 8;
    while (at + 8 <= size) {
        const uint32_t length = read_be32(data + at);
        const uint8_t *type = data + at + 4;
        if (memcmp(type, "IDAT", 4) == 0)
            return length == 0;
        if (memcmp(type, "IEND", 4) == 0 || length > size - at - 8)
            return false;
        at += 12 + (size_t)length; /* length, type, data, CRC */
    }
    return false;
}

static alexnet_status check_channels(const char *fn, int channels)
{
    if (channels != 1 && channels != 3)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: channels is %d; images are decoded to 1 (grey) or 3 (RGB)", fn,
                         channels);
    return ALEXNET_OK;
}

/* stb decodes w x h pixels or nothing: any other size is a damaged file. */
static alexnet_status stb_decode_exact(const char *fn, const char *label, const uint8_t *data,
                                       size_t size, int channels, int w, int h, uint8_t **pixels)
{
    int dw, dh;
    *pixels = stb_image_decode(data, (int)size, channels, &dw, &dh);
    if (*pixels == NULL || dw != w || dh != h) {
        stb_image_release(*pixels);
        *pixels = NULL;
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the PNG data is damaged or truncated", fn,
                         label);
    }
    return ALEXNET_OK;
}

/* A palette PNG whose pixels use an index past the end of its PLTE chunk is an error in the PNG
 * standard, but stb_image 2.27 decodes it and takes the missing colours from its own uninitialised
 * stack. Debian's stb has no fix, and the indices are only visible inside stb, so such a file is
 * decoded twice with its palette padded to 256 entries, once with black and once with white: a
 * pixel that differs between the two used an undefined colour, and the file is refused. Only
 * palette PNGs with a short PLTE (rare) pay for the second decode; every pixel stb returns is
 * defined. */
enum { PNG_PALETTE_MAX = 256 };

typedef struct png_chunk {
    size_t at; /* offset of the length field */
    uint32_t length;
} png_chunk;

/* The first chunk of `type` within the chunk list, or false. */
static bool png_find_chunk(const uint8_t *data, size_t size, const char *type, png_chunk *chunk)
{
    size_t at = 8;
    while (at + 12 <= size) {
        const uint32_t length = read_be32(data + at);
        if (length > size - at - 12)
            return false;
        if (memcmp(data + at + 4, type, 4) == 0) {
            chunk->at = at;
            chunk->length = length;
            return true;
        }
        if (memcmp(data + at + 4, "IEND", 4) == 0)
            return false;
        at += 12 + (size_t)length;
    }
    return false;
}

/* A copy of the PNG whose PLTE chunk is padded to 256 entries of grey level `fill`. */
static uint8_t *png_pad_palette(const uint8_t *data, size_t size, png_chunk plte, uint8_t fill,
                                size_t *padded_size)
{
    const size_t full = 3 * PNG_PALETTE_MAX, added = full - plte.length;
    uint8_t *copy = malloc(size + added);
    if (copy == NULL)
        return NULL;
    const size_t body = plte.at + 8, end = body + plte.length;
    memcpy(copy, data, end);
    memset(copy + end, fill, added);
    memcpy(copy + end + added + 4, data + end + 4, size - end - 4); /* after the old CRC */
    copy[plte.at] = 0, copy[plte.at + 1] = 0;
    copy[plte.at + 2] = (uint8_t)(full >> 8), copy[plte.at + 3] = (uint8_t)full;
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), copy + plte.at + 4, (uInt)(4 + full));
    for (int i = 0; i < 4; i++)
        copy[end + added + i] = (uint8_t)(crc >> (24 - 8 * i));
    *padded_size = size + added;
    return copy;
}

static alexnet_status png_decode_checked(const char *fn, const char *label, const uint8_t *data,
                                         size_t size, int channels, int w, int h,
                                         uint8_t **pixels)
{
    png_chunk plte;
    const bool indexed = size > 25 && data[25] == 3; /* IHDR colour type 3: palette */
    if (!indexed || !png_find_chunk(data, size, "PLTE", &plte) || plte.length % 3 != 0 ||
        plte.length >= 3 * PNG_PALETTE_MAX)
        return stb_decode_exact(fn, label, data, size, channels, w, h, pixels);
    png_chunk trns; /* stb refuses one longer than the palette; padding must not change that */
    if (png_find_chunk(data, size, "tRNS", &trns) && trns.length > plte.length / 3)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the PNG has %u transparency entries (tRNS) for %u colours", fn,
                         label, trns.length, plte.length / 3);
    uint8_t *variant[2] = {NULL, NULL}, *decoded[2] = {NULL, NULL};
    alexnet_status st = ALEXNET_OK;
    for (int k = 0; k < 2 && st == ALEXNET_OK; k++) {
        size_t padded_size = 0;
        variant[k] = png_pad_palette(data, size, plte, k ? 0xFF : 0x00, &padded_size);
        st = variant[k] == NULL
                 ? error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory decoding '%s'", fn,
                             label)
                 : stb_decode_exact(fn, label, variant[k], padded_size, channels, w, h,
                                    &decoded[k]);
    }
    if (st == ALEXNET_OK &&
        memcmp(decoded[0], decoded[1], (size_t)w * h * (size_t)channels) != 0)
        st = error_set(ALEXNET_ERR_FORMAT,
                       "%s: '%s': the PNG's pixels use colours past the %u its palette (PLTE) "
                       "defines",
                       fn, label, plte.length / 3);
    free(variant[0]);
    free(variant[1]);
    stb_image_release(decoded[1]);
    if (st != ALEXNET_OK)
        stb_image_release(decoded[0]);
    else
        *pixels = decoded[0];
    return st;
}

alexnet_status image_size_refused(const char *fn, const char *label, int width, int height,
                                  const alexnet_limits *limits)
{
    return error_set(ALEXNET_ERR_FORMAT,
                     "%s: '%s' claims %dx%d pixels; alexnet_limits allows %lld per side "
                     "(max_image_side) and %lld in all (max_image_pixels)",
                     fn, label, width, height, (long long)limits->max_image_side,
                     (long long)limits->max_image_pixels);
}

alexnet_status image_from_pixels(const char *fn, const char *label, const uint8_t *pixels,
                                 int width, int height, int channels, alexnet_tensor **out)
{
    int64_t shape[3] = {channels, height, width};
    alexnet_tensor *t = NULL;
    alexnet_status st = alexnet_tensor_create(&t, 3, shape);
    if (st != ALEXNET_OK)
        return error_prefix(st, "%s: '%s'", fn, label);
    const size_t plane = (size_t)width * height;
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < channels; k++)
            t->data[(size_t)k * plane + p] = (float)pixels[p * (size_t)channels + k] / 255.0f;
    *out = t;
    return ALEXNET_OK;
}

static alexnet_status png_decode(const char *fn, const char *label, const uint8_t *data,
                                 size_t size, int channels, const alexnet_limits *limits,
                                 alexnet_tensor **out)
{
    int w = 0, h = 0, c;
    /* stb refuses some huge sizes itself; the PNG's own header still says what it claimed. */
    if (!stb_image_info(data, (int)size, &w, &h, &c) && !png_header_size(data, size, &w, &h))
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the PNG header is damaged or truncated",
                         fn, label);
    if (w < 1 || h < 1 || w > limits->max_image_side || h > limits->max_image_side ||
        (int64_t)w * h > limits->max_image_pixels)
        return image_size_refused(fn, label, w, h, limits);
    if (png_has_empty_first_idat(data, size))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the PNG starts its image data with an empty IDAT chunk, "
                         "which this decoder does not accept",
                         fn, label);
    uint8_t *pixels = NULL;
    alexnet_status st = png_decode_checked(fn, label, data, size, channels, w, h, &pixels);
    if (st == ALEXNET_OK)
        st = image_from_pixels(fn, label, pixels, w, h, channels, out);
    stb_image_release(pixels);
    return st;
}

alexnet_status image_decode(const char *fn, const char *label, const uint8_t *data, size_t size,
                            int channels, alexnet_tensor **out)
{
    *out = NULL;
    alexnet_status st = check_channels(fn, channels);
    if (st != ALEXNET_OK)
        return st;
    const alexnet_limits limits = limits_current();
    if ((uint64_t)size > (uint64_t)limits.max_image_bytes)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' is %zu bytes; alexnet_limits.max_image_bytes allows %lld", fn,
                         label, size, (long long)limits.max_image_bytes);
    const char *kind = kind_of(data, size);
    if (kind == NULL)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is neither a PNG nor a JPEG image%s", fn,
                         label, size == 0 ? " (it is empty)" : "");
    if (strcmp(kind, "PNG") == 0)
        return png_decode(fn, label, data, size, channels, &limits, out);
    return jpeg_decode(fn, label, data, size, channels, &limits, out);
}

alexnet_status image_load(const char *fn, const char *path, int channels, alexnet_tensor **out)
{
    *out = NULL;
    uint8_t *data;
    size_t size;
    alexnet_status st = file_read_all(fn, path, (size_t)limits_current().max_image_bytes, &data, &size);
    if (st != ALEXNET_OK)
        return st;
    st = image_decode(fn, path, data, size, channels, out);
    free(data);
    return st;
}

alexnet_status alexnet_image_decode(alexnet_tensor **out, const void *data, size_t size,
                                    int channels)
{
    static const char fn[] = "alexnet_image_decode";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, data);
    return image_decode(fn, "image data", data, size, channels, out);
}

alexnet_status alexnet_image_load(alexnet_tensor **out, const char *path, int channels)
{
    static const char fn[] = "alexnet_image_load";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, path);
    return image_load(fn, path, channels, out);
}

