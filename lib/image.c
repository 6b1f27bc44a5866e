/* The geometric operations of preprocessing on planar images (decoding: image_decode.c). */
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
    image_normalize_planes(image->data, planes, channels, (size_t)h * w, 1.0f, mean, std);
    return ALEXNET_OK;
}

void image_normalize_planes(float *data, int64_t planes, int channels, size_t plane, float scale,
                            const float *mean, const float *std)
{
    for (int64_t p = 0; p < planes; p++) {
        const int c = (int)(p % channels);
        const float m = mean[c], inv = 1.0f / std[c];
        float *x = data + (size_t)p * plane;
        for (size_t i = 0; i < plane; i++)
            x[i] = (x[i] * scale - m) * inv;
    }
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
