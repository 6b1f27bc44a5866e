/* Winograd's minimal filtering F(4x4, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, 2016):
 * each 6x6 input tile and each 3x3 filter are transformed, multiplied element by element (36
 * GEMMs over channels, one per tile position), and transformed back into a 4x4 output tile: 36
 * multiplications per 16 outputs where im2col + GEMM spends 144. Small maps take F(3x3, 3x3)
 * (5x5 tiles, 25 per 9) where it wastes less of its last tiles; larger kernels run as 3x3
 * convolutions of their input's phases (winograd_plan.h). Backward runs the adjoints of the
 * same transforms, so the weight and input gradients are exact gradients of what forward computed.
 *
 * conv.c chooses the algorithm per layer and call; these functions take the same layer and call. */
#ifndef ALEXNET_WINOGRAD_H
#define ALEXNET_WINOGRAD_H

#include "layer.h"

/* Whether a convolution of inputs shaped `in` is one Winograd computes, and computes faster: a
 * 3x3 kernel at stride 1, 5x5 or 6x6 at stride 1, or k x k at a stride s with 2s < k <= 3s
 * (11x11 / 4), with enough channels per group in the phases for the per-tile GEMMs to be
 * efficient (and images small enough for 32-bit offsets within a chunk). */
bool winograd_applies(const layer *l, shape in);

/* Scratch floats for a call of up to `batch` images split into `parts`. */
size_t winograd_scratch_floats(const layer *l, shape in, shape out, int batch, int parts,
                               bool training);

/* The layer's forward and backward (split over images, like conv.c's image path). */
void winograd_forward(const layer *l, const layer_call *call);
void winograd_backward(const layer *l, const layer_call *call);

/* The transforms of one tile, for the numerical tests: the out_tile x out_tile output (4 or 3) of
 * one (out_tile + 2)^2 input tile d under one 3x3 filter g, computed as the layer computes it. */
void winograd_tile(int out_tile, const float *d, const float *g, float *y);

/* The output tile side a call takes for this layer and shapes: 4, or 3 where F(3x3, 3x3) spends
 * fewer multiplications on the output (6x6 maps, say). */
int winograd_tile_side(const layer *l, shape in, shape out);

#endif
