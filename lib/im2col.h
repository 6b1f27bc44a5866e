/* The unfolding that turns a convolution into a matrix product. Rows of the column matrix are
 * indexed (c * kernel + i) * kernel + j for input channel c and kernel offset (i, j); columns are
 * output positions oy * out_w + ox. Padding reads as zero.
 *
 * Both directions work on the image with its zero border written out ([channels, height + 2 pad,
 * width + 2 pad], im2col_pad), so that every row of the unfolding is a plain strided copy without
 * bounds checks: feature maps are tiny in the late stages (6x6 in MINI), where per-element edge
 * tests would cost more than the copy itself. */
#ifndef ALEXNET_IM2COL_H
#define ALEXNET_IM2COL_H

#include <stddef.h>

typedef struct conv_geometry {
    int channels, height, width; /* input image */
    int kernel, stride, pad;
    int out_h, out_w;
} conv_geometry;

/* Floats of the padded image. */
size_t im2col_padded_floats(const conv_geometry *g);

/* Copies an image [channels, height, width] into `padded` with the zero border. */
void im2col_pad(const conv_geometry *g, const float *image, float *padded);

/* Writes rows [row_begin, row_end) of the column matrix of one padded image to `col`, whose rows
 * are `ld` floats apart (ld >= out_h * out_w, for several images side by side). */
void im2col(const conv_geometry *g, const float *padded, float *col, size_t ld, int row_begin,
            int row_end);

/* The adjoint of im2col_pad followed by im2col: writes to `image` [channels, height, width] the
 * sum, over the column entries, of each entry at the position it was read from. `padded` is
 * scratch of im2col_padded_floats (unused, and may be NULL, without padding). */
void col2im(const conv_geometry *g, const float *col, size_t ld, float *padded, float *image);

#endif
