/* Convolutions whose groups each read one input channel (MINI's conv1 on grey images), 3x3 at
 * stride 1 with padding 1, computed directly from the input plane rather than by im2col + GEMM.
 *
 * conv.c chooses the algorithm per layer; these functions take the same layer and call. */
#ifndef ALEXNET_CONV_PLANE_H
#define ALEXNET_CONV_PLANE_H

#include "layer.h"

/* Whether the layer is one this file computes: one input channel per group, a 3x3 kernel, stride
 * 1 and padding 1 (the output plane is the input plane's size). */
bool conv_plane_applies(const layer *l);

/* Scratch floats for a call of up to `batch` images split into `parts`. */
size_t conv_plane_scratch_floats(const layer *l, shape in, int parts, bool training);

void conv_plane_forward(const layer *l, const layer_call *call);
void conv_plane_backward(const layer *l, const layer_call *call);

/* The same work image by image, for a layer that runs the convolution inside its own passes
 * (lrn_fusion.c); `call` is the convolution's, `part` the caller's part. The forward writes the
 * image's output, [M][H*W], to `out`. The weight gradient: each part clears its partial sums,
 * adds its images' in order (the images of a part as parallel_run assigns `batch` items), and
 * conv_plane_gradient_sum then writes the layer's gradients, to the bit as conv_plane_backward
 * does. `plane_copied`: conv_plane_forward_image has just run on this image in this part, which
 * leaves a one-group layer's input in the part's copies, so they are not made again. */
void conv_plane_forward_image(const layer *l, const layer_call *call, int64_t image, float *out,
                              int part);
void conv_plane_gradient_clear(const layer *l, const layer_call *call, int part);
void conv_plane_gradient_image(const layer *l, const layer_call *call, int64_t image,
                               const float *dout, int part, bool plane_copied);
void conv_plane_gradient_sum(const layer *l, const layer_call *call);

#endif
