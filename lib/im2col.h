/* The unfolding that turns a convolution into a matrix product. Rows of the column matrix are
 * indexed (c * kernel + i) * kernel + j for input channel c and kernel offset (i, j); columns are
 * output positions oy * out_w + ox. Padding reads as zero. */
#ifndef ALEXNET_IM2COL_H
#define ALEXNET_IM2COL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct conv_geometry {
    int channels, height, width; /* input image */
    int kernel, stride, pad;
    int out_h, out_w;
    /* Optional, for small maps: for each kernel offset (i, j), the input offset in a plane of
     * every output position, or -1 where it reads padding (im2col_gather_table fills it). */
    const int32_t *gather;
} conv_geometry;

/* The gather table pays off when rows are short; it has kernel^2 * out_h * out_w entries. */
enum { IM2COL_GATHER_MAX_WIDTH = 16, IM2COL_GATHER_MAX_ENTRIES = 4096 };
bool im2col_wants_gather(const conv_geometry *g);
void im2col_gather_table(const conv_geometry *g, int32_t *table);

/* Writes rows [row_begin, row_end) of the column matrix of one image [channels, height, width] to
 * `col`, whose rows are `ld` floats apart (ld >= out_h * out_w, for several images side by side).
 */
void im2col(const conv_geometry *g, const float *image, float *col, size_t ld, int row_begin,
            int row_end);

/* The adjoint of im2col: adds each column entry back to the image position it was read from.
 * The caller zeroes `image` first. */
void col2im(const conv_geometry *g, const float *col, size_t ld, float *image);

#endif
