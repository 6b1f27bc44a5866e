/* Local response normalisation's block kernels (lrn.c), shared with lrn_fusion.c, which runs them
 * on a convolution's output while it is still in the caches. */
#ifndef ALEXNET_LRN_H
#define ALEXNET_LRN_H

#include "layer.h"

/* Whether the layer's blocks are whole images for this input shape (one block per image). */
bool lrn_blocks_are_images(shape in);

/* The scratch floats one part's block kernels use. */
size_t lrn_part_floats(shape in);

/* One block of W elements per channel of all in.c channels, each channel's stretch `plane`
 * floats after the previous one: b from a (forward), and da from a and the output's gradient g
 * (backward, with the ReLU's mask where lrn.masks_relu). `part` is one part's scratch. */
void lrn_forward_block(const layer *l, shape in, const float *a, float *b, size_t plane, int W,
                       float *part);
void lrn_backward_block(const layer *l, shape in, const float *a, const float *g, float *da,
                        size_t plane, int W, float *part);

#endif
