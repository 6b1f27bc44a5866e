/* Image operations on planar float buffers [C, H, W], shared by the public image functions, the
 * data sets and the batch loader. */
#ifndef ALEXNET_IMAGE_H
#define ALEXNET_IMAGE_H

#include "alexnet/alexnet.h"

#include <stdbool.h>
#include <stdint.h>

/* The largest side the image operations (resizing, cropping) produce. */
enum { IMAGE_MAX_SIDE = 16384 };

/* Decodes PNG/JPEG bytes within alexnet_limits (image_decode.c); `label` (a file name, or
 * "image data") goes into messages. */
alexnet_status image_decode(const char *fn, const char *label, const uint8_t *data, size_t size,
                            int channels, alexnet_tensor **out);

/* JPEG decoding with libjpeg-turbo (jpeg_decode.c), within `limits`. */
alexnet_status jpeg_decode(const char *fn, const char *label, const uint8_t *data, size_t size,
                           int channels, const alexnet_limits *limits, alexnet_tensor **out);

/* The FORMAT error for an image whose size exceeds `limits`. */
alexnet_status image_size_refused(const char *fn, const char *label, int width, int height,
                                  const alexnet_limits *limits);

/* A tensor [channels, height, width] in [0, 1] from interleaved 8-bit pixels. */
alexnet_status image_from_pixels(const char *fn, const char *label, const uint8_t *pixels,
                                 int width, int height, int channels, alexnet_tensor **out);

/* Reads and decodes a file. */
alexnet_status image_load(const char *fn, const char *path, int channels, alexnet_tensor **out);

/* Checks that `t` is an image [C, H, W] with C 1 or 3 (or, with allow_batch, [N, C, H, W]) and
 * returns the planes (N * C), height and width. */
alexnet_status image_check(const char *fn, const char *what, const alexnet_tensor *t,
                           bool allow_batch, int64_t *planes, int *height, int *width);

/* dst [C, out_h, out_w] = the window of src [C, h, w] at (top, left); outside pixels are 0. */
void image_crop_into(const float *src, int channels, int h, int w, int top, int left, int out_h,
                     int out_w, float *dst);

/* Mirrors `planes` planes of h x w in place. */
void image_flip_planes(float *data, int64_t planes, int h, int w);

/* Converts [from, H, W] to [to, H, W] (1 -> 3 replicates, 3 -> 1 takes luminance). */
void image_convert_channels(const float *src, int from, float *dst, int to, size_t plane);

/* Resizes each of `channels` planes; false when stb fails. */
bool image_resize_into(const float *src, int channels, int h, int w, float *dst, int out_h,
                       int out_w);

/* The size whose shorter side is `side`, keeping the aspect ratio. */
/* x <- (x * scale - mean[c]) / std[c] over `planes` planes of `plane` floats, channel c = plane
 * index mod `channels` (alexnet_image_normalize with scale 1, and alexnet_image_preprocess). */
void image_normalize_planes(float *data, int64_t planes, int channels, size_t plane, float scale,
                            const float *mean, const float *std);

void image_shorter_side_size(int h, int w, int side, int *out_h, int *out_w);

/* Adds the PCA colour shift for alpha to an RGB image. */
void image_color_jitter_into(float *data, size_t plane, const alexnet_color_pca *pca,
                             const float alpha[3]);

#endif
