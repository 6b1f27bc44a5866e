/* Decoding of untrusted PNG/JPEG bytes and the geometric operations of preprocessing. */
#include "image.h"
#include "byte_order.h"

#include "error.h"
#include "fileio.h"
#include "memory.h"
#include "stb.h"
#include "tensor.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_of(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "PNG";
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return "JPEG";
    return NULL;
}

/* Width and height from a PNG's IHDR chunk (always the first), when they exceed the limits: the
 * caller then reports them rather than a vaguer "damaged header". */
static bool png_header_size(const uint8_t *data, size_t size, int *w, int *h)
{
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0)
        return false;
    const uint32_t width = read_be32(data + 16), height = read_be32(data + 20);
    if ((width <= IMAGE_MAX_SIDE && height <= IMAGE_MAX_SIDE &&
         (uint64_t)width * height <= IMAGE_MAX_PIXELS) ||
        width > INT32_MAX || height > INT32_MAX)
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

/* stb_image 2.27 writes past its Huffman tables when a DHT segment's 16 code counts add up to more
 * than 256 (fixed upstream in 2.28; found by tests/test_fuzz.c under ASan). stb accepts a DHT
 * marker wherever it expects a marker and keeps reading tables past the segment's end, so every
 * FF C4 in the file is parsed here the way stb would parse it (bytes past the end read as 0, as
 * stb reads them), and any table it would overflow on makes the file refused. FF C4 cannot occur
 * in entropy-coded data (FF is stuffed there), so this rejects no valid baseline image. */
static bool jpeg_huffman_tables_valid(const uint8_t *data, size_t size)
{
    for (size_t marker = 0; marker + 1 < size; marker++) {
        if (data[marker] != 0xFF || data[marker + 1] != 0xC4)
            continue;
        size_t at = marker + 2;
#define BYTE_AT(i) ((i) < size ? data[i] : 0)
        long remaining = (long)(BYTE_AT(at) << 8 | BYTE_AT(at + 1)) - 2;
        at += 2;
        while (remaining > 0 && at < size) {
            const int q = BYTE_AT(at);
            if (q >> 4 > 1 || (q & 15) > 3)
                break; /* stb stops here with "bad DHT header" */
            unsigned codes = 0;
            for (size_t i = 1; i <= 16; i++)
                codes += BYTE_AT(at + i);
            if (codes > 256)
                return false;
            at += 17 + codes;
            remaining -= 17 + (long)codes;
        }
#undef BYTE_AT
    }
    return true;
}

static alexnet_status check_channels(const char *fn, int channels)
{
    if (channels != 1 && channels != 3)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: channels is %d; images are decoded to 1 (grey) or 3 (RGB)", fn,
                         channels);
    return ALEXNET_OK;
}

alexnet_status image_decode(const char *fn, const char *label, const uint8_t *data, size_t size,
                            int channels, alexnet_tensor **out)
{
    *out = NULL;
    alexnet_status st = check_channels(fn, channels);
    if (st != ALEXNET_OK)
        return st;
    if (size > IMAGE_MAX_FILE_BYTES)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is %zu bytes; images are limited to %zu", fn,
                         label, size, IMAGE_MAX_FILE_BYTES);
    const char *kind = kind_of(data, size);
    if (kind == NULL)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is neither a PNG nor a JPEG image%s", fn,
                         label, size == 0 ? " (it is empty)" : "");
    if (strcmp(kind, "JPEG") == 0 && !jpeg_huffman_tables_valid(data, size))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': a JPEG Huffman table declares more than 256 codes", fn, label);
    int w = 0, h = 0, c;
    /* stb refuses some huge sizes itself; the PNG's own header still says what it claimed. */
    if (!stb_image_info(data, (int)size, &w, &h, &c) && !png_header_size(data, size, &w, &h))
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the %s header is damaged or truncated", fn,
                         label, kind);
    if (w < 1 || h < 1 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
        (int64_t)w * h > IMAGE_MAX_PIXELS)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' claims %dx%d pixels; images are limited to %d per side and %d "
                         "in all",
                         fn, label, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    if (strcmp(kind, "PNG") == 0 && png_has_empty_first_idat(data, size))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the PNG starts its image data with an empty IDAT chunk, "
                         "which this decoder does not accept",
                         fn, label);
    int dw, dh;
    uint8_t *pixels = stb_image_decode(data, (int)size, channels, &dw, &dh);
    if (pixels == NULL || dw != w || dh != h) {
        stb_image_release(pixels);
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the %s data is damaged or truncated", fn,
                         label, kind);
    }
    int64_t shape[3] = {channels, h, w};
    alexnet_tensor *t = NULL;
    st = alexnet_tensor_create(&t, 3, shape);
    if (st != ALEXNET_OK) {
        stb_image_release(pixels);
        return error_prefix(st, "%s: '%s'", fn, label);
    }
    const size_t plane = (size_t)w * h;
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < channels; k++)
            t->data[(size_t)k * plane + p] = (float)pixels[p * (size_t)channels + k] / 255.0f;
    stb_image_release(pixels);
    *out = t;
    return ALEXNET_OK;
}

alexnet_status image_load(const char *fn, const char *path, int channels, alexnet_tensor **out)
{
    *out = NULL;
    uint8_t *data;
    size_t size;
    alexnet_status st = file_read_all(fn, path, IMAGE_MAX_FILE_BYTES, &data, &size);
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

alexnet_status image_check(const char *fn, const char *what, const alexnet_tensor *t,
                           bool allow_batch, int64_t *planes, int *height, int *width)
{
    if (t == NULL)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", fn, what);
    bool ok = t->ndim == 3 || (allow_batch && t->ndim == 4);
    if (ok) {
        const int64_t channels = t->shape[t->ndim - 3];
        ok = (channels == 1 || channels == 3) && t->shape[t->ndim - 1] <= INT_MAX &&
             t->shape[t->ndim - 2] <= INT_MAX;
    }
    if (!ok) {
        char got[128];
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: %s has shape %s; expected [C, H, W]%s with C 1 or 3", fn, what,
                         tensor_shape_format(got, sizeof got, t->ndim, t->shape),
                         allow_batch ? " or [N, C, H, W]" : "");
    }
    *planes = t->numel / (t->shape[t->ndim - 1] * t->shape[t->ndim - 2]);
    *height = (int)t->shape[t->ndim - 2];
    *width = (int)t->shape[t->ndim - 1];
    return ALEXNET_OK;
}

typedef struct png_sink {
    FILE *file;
    bool failed;
} png_sink;

static void png_write(void *ctx, void *data, int size)
{
    png_sink *sink = ctx;
    if (fwrite(data, 1, (size_t)size, sink->file) != (size_t)size)
        sink->failed = true;
}

typedef struct png_job {
    const alexnet_tensor *image;
} png_job;

static alexnet_status write_png(FILE *file, void *ctx)
{
    const alexnet_tensor *t = ((const png_job *)ctx)->image;
    const int c = (int)t->shape[0], h = (int)t->shape[1], w = (int)t->shape[2];
    const size_t plane = (size_t)h * w;
    uint8_t *pixels = malloc(plane * (size_t)c);
    if (pixels == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "out of memory for the pixels");
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++) {
            float v = t->data[(size_t)k * plane + p];
            v = v != v ? 0.0f : v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            pixels[p * (size_t)c + k] = (uint8_t)lrintf(v * 255.0f);
        }
    png_sink sink = {file, false};
    bool ok = stb_png_encode(png_write, &sink, w, h, c, pixels);
    free(pixels);
    if (!ok || sink.failed)
        return error_set(ALEXNET_ERR_IO, "the PNG could not be written");
    return ALEXNET_OK;
}

alexnet_status alexnet_image_save_png(const alexnet_tensor *image, const char *path)
{
    static const char fn[] = "alexnet_image_save_png";
    CHECK_NOT_NULL(fn, path);
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    if (h > IMAGE_MAX_SIDE || w > IMAGE_MAX_SIDE)
        return error_set(ALEXNET_ERR_SHAPE, "%s: a %dx%d image is larger than PNG output allows",
                         fn, h, w);
    png_job job = {image};
    return file_write_atomic(fn, path, write_png, &job);
}

void image_crop_into(const float *src, int channels, int h, int w, int top, int left, int out_h,
                     int out_w, float *dst)
{
    for (int c = 0; c < channels; c++) {
        const float *plane = src + (size_t)c * h * w;
        float *out = dst + (size_t)c * out_h * out_w;
        for (int y = 0; y < out_h; y++) {
            const int sy = top + y;
            float *row = out + (size_t)y * out_w;
            if (sy < 0 || sy >= h) {
                memset(row, 0, sizeof(float) * (size_t)out_w);
                continue;
            }
            for (int x = 0; x < out_w; x++) {
                const int sx = left + x;
                row[x] = sx < 0 || sx >= w ? 0.0f : plane[(size_t)sy * w + sx];
            }
        }
    }
}

void image_flip_planes(float *data, int64_t planes, int h, int w)
{
    for (int64_t p = 0; p < planes * h; p++) {
        float *row = data + (size_t)p * w;
        for (int x = 0; x < w / 2; x++) {
            float t = row[x];
            row[x] = row[w - 1 - x];
            row[w - 1 - x] = t;
        }
    }
}

void image_convert_channels(const float *src, int from, float *dst, int to, size_t plane)
{
    if (from == to) {
        memcpy(dst, src, sizeof(float) * plane * (size_t)to);
    } else if (from == 1) {
        for (int k = 0; k < to; k++)
            memcpy(dst + (size_t)k * plane, src, sizeof(float) * plane);
    } else { /* RGB to grey, ITU-R BT.601 luma as stb_image computes it */
        for (size_t p = 0; p < plane; p++)
            dst[p] = 0.299f * src[p] + 0.587f * src[plane + p] + 0.114f * src[2 * plane + p];
    }
}

bool image_resize_into(const float *src, int channels, int h, int w, float *dst, int out_h,
                       int out_w)
{
    for (int c = 0; c < channels; c++)
        if (!stb_resize_plane(src + (size_t)c * h * w, w, h, dst + (size_t)c * out_h * out_w, out_w,
                              out_h))
            return false;
    return true;
}

void image_shorter_side_size(int h, int w, int side, int *out_h, int *out_w)
{
    if (h <= w) {
        *out_h = side;
        *out_w = (int)lround((double)w * side / h);
    } else {
        *out_w = side;
        *out_h = (int)lround((double)h * side / w);
    }
    *out_h = *out_h < 1 ? 1 : *out_h;
    *out_w = *out_w < 1 ? 1 : *out_w;
}

/* A new image [planes, height, width] for the result of `fn`, after checking the size. */
static alexnet_status new_image(const char *fn, alexnet_tensor **out, int64_t planes, int height,
                                int width)
{
    if (height < 1 || width < 1 || height > IMAGE_MAX_SIDE || width > IMAGE_MAX_SIDE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the size %dx%d is outside 1..%d per side", fn, height, width,
                         IMAGE_MAX_SIDE);
    int64_t shape[3] = {planes, height, width};
    alexnet_status st = alexnet_tensor_create(out, 3, shape);
    return st == ALEXNET_OK ? st : error_prefix(st, "%s", fn);
}

static alexnet_status resized(const char *fn, alexnet_tensor **out, const alexnet_tensor *image,
                              int height, int width)
{
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st == ALEXNET_OK)
        st = new_image(fn, out, planes, height, width);
    if (st != ALEXNET_OK)
        return st;
    if (!image_resize_into(image->data, (int)planes, h, w, (*out)->data, height, width)) {
        alexnet_tensor_free(*out);
        *out = NULL;
        return error_set(ALEXNET_ERR_INTERNAL, "%s: stb_image_resize failed", fn);
    }
    return ALEXNET_OK;
}

alexnet_status alexnet_image_resize(alexnet_tensor **out, const alexnet_tensor *image, int height,
                                    int width)
{
    static const char fn[] = "alexnet_image_resize";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    return resized(fn, out, image, height, width);
}

alexnet_status alexnet_image_resize_shorter(alexnet_tensor **out, const alexnet_tensor *image,
                                            int side)
{
    static const char fn[] = "alexnet_image_resize_shorter";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    int64_t planes = 0;
    int h = 0, w = 0, out_h, out_w;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    if (side < 1 || side > IMAGE_MAX_SIDE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: side %d is outside 1..%d", fn, side,
                         IMAGE_MAX_SIDE);
    image_shorter_side_size(h, w, side, &out_h, &out_w);
    return resized(fn, out, image, out_h, out_w);
}

alexnet_status alexnet_image_crop(alexnet_tensor **out, const alexnet_tensor *image, int top,
                                  int left, int height, int width)
{
    static const char fn[] = "alexnet_image_crop";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st == ALEXNET_OK)
        st = new_image(fn, out, planes, height, width);
    if (st != ALEXNET_OK)
        return st;
    image_crop_into(image->data, (int)planes, h, w, top, left, height, width, (*out)->data);
    return ALEXNET_OK;
}

alexnet_status alexnet_image_flip(alexnet_tensor *image)
{
    static const char fn[] = "alexnet_image_flip";
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, true, &planes, &h, &w);
    if (st == ALEXNET_OK)
        image_flip_planes(image->data, planes, h, w);
    return st;
}

alexnet_status alexnet_image_normalize(alexnet_tensor *image, const float *mean, const float *std)
{
    static const char fn[] = "alexnet_image_normalize";
    CHECK_NOT_NULL(fn, mean);
    CHECK_NOT_NULL(fn, std);
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, true, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    const int channels = (int)image->shape[image->ndim - 3];
    for (int c = 0; c < channels; c++)
        if (!(std[c] > 0.0f) || !isfinite(std[c]) || !isfinite(mean[c]))
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                             "%s: channel %d has mean %g and std %g; std must be finite and > 0",
                             fn, c, (double)mean[c], (double)std[c]);
    const size_t plane = (size_t)h * w;
    for (int64_t p = 0; p < planes; p++) {
        const int c = (int)(p % channels);
        const float m = mean[c], inv = 1.0f / std[c];
        float *data = image->data + (size_t)p * plane;
        for (size_t i = 0; i < plane; i++)
            data[i] = (data[i] - m) * inv;
    }
    return ALEXNET_OK;
}

void image_color_jitter_into(float *data, size_t plane, const alexnet_color_pca *pca,
                             const float alpha[3])
{
    for (int c = 0; c < 3; c++) {
        float shift = 0.0f;
        for (int k = 0; k < 3; k++)
            shift += pca->eigenvectors[c][k] * alpha[k] * pca->eigenvalues[k];
        float *channel = data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            channel[i] += shift;
    }
}
