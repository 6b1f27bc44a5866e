/* The geometry of one Winograd call (winograd.c) and the phases of its input (winograd_phases.c).
 *
 * Larger kernels run as 3x3 convolutions of "phases" of the input: input channel c becomes A * A
 * channels (c, a, b), phase (a, b) holding x[c][s y + a m][s x + b m] (y, x along the phase),
 * and each k x k filter becomes A * A 3x3 filters, w[s i + a m][s j + b m] (zero past k):
 *   - stride s > 1 with 2s < k <= 3s: the stride's A = s phases, m = 1. AlexNet's 11x11 stride-4
 *     conv1 over 3 channels becomes a 3x3 convolution over 48 (3.2 times fewer multiplications
 *     than direct, zeros included);
 *   - stride 1 with k = 5 or 6: A = 2 blocks of 3x3 taps, m = 3, the input shifted by 0 and 3.
 *     The 5x5 conv2 becomes a 3x3 convolution over 4 times the channels (2.8 times fewer).
 * A 3x3 stride-1 layer is A = 1: its one phase is the input. The pad rows are part of x here. */
#ifndef ALEXNET_WINOGRAD_PLAN_H
#define ALEXNET_WINOGRAD_PLAN_H

#include "layer.h"

typedef struct wino_dims {
    int s, kernel, in_c;      /* the layer's stride, kernel, input channels */
    int A, step;              /* phases per axis, and their step */
    int C, K, groups, Cg, Kg; /* of the 3x3 convolution: C = in_c A A */
    int H, W, pad, out_h, out_w;
    int out_tile, T, XI;                             /* F(out_tile^2, 3x3): T = out_tile + 2 */
    int tiles_y, tiles_x, tiles;                     /* per image */
    int Hp, Wp;                                      /* the padded copy of an image's phases */
    int chunk;                                       /* images per chunk */
    size_t P;                                        /* tiles of a full chunk */
    size_t u, w3, padded, v, m, du, dbias, per_part; /* floats of each scratch area, rounded */
} wino_dims;

/* Copies `count` images into a padded buffer (count * C planes of Hp x Wp) as their phases (for a
 * 3x3 stride-1 layer, each image with its zero border), zeros elsewhere. */
void winograd_pad_chunk(const wino_dims *d, const float *images, int count, float *padded);

/* Its adjoint: din of the chunk's images, the sum of their phases' gradients. */
void winograd_unpad_chunk(const wino_dims *d, const float *padded, int count, float *din);

/* The phases' 3x3 filters (K * Cg of them) from the layer's k x k ones, and the layer's weight
 * gradient from theirs. Only for A > 1. */
void winograd_phase_filters(const wino_dims *d, const float *weight, float *w3);
void winograd_phase_filters_adjoint(const wino_dims *d, const float *dw3, float *dweight);

#endif
