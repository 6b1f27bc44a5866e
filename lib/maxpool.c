/* Overlapping max pooling (the paper's 3x3 windows at stride 2), no padding. The output size
 * rounds down, as PyTorch's MaxPool2d, or with `ceil` up, as Caffe (and ceil_mode): the last
 * window then hangs over the border and takes the maximum of what it covers. Ties go to the first
 * maximum in row-major order and a NaN wins, exactly as PyTorch chooses, so gradients are routed
 * to the same element. Forward keeps, for backward, where in its window each output's winner is:
 * one byte per output (the window's row-major offset; kernels up to 15x15), a quarter of what an
 * input index would take, in the largest buffers a training plan holds after the activations.
 * Work is split over (image, channel) planes. */
#include "layer.h"
#include "parallel.h"
#include "simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static bool maxpool_output_shape(const layer *l, shape in, shape *out)
{
    const int k = l->pool.kernel, s = l->pool.stride, round_up = l->pool.ceil ? s - 1 : 0;
    if (in.h < k || in.w < k)
        return false;
    /* Without padding every window starts inside the input, so rounding up needs no check that
     * the last one does (PyTorch's and Caffe's rule). */
    *out = (shape){in.c, (in.h - k + round_up) / s + 1, (in.w - k + round_up) / s + 1};
    return true;
}

static size_t maxpool_aux_floats(const layer *l, shape in, shape out)
{
    (void)l, (void)in;
    return (shape_size(out) + sizeof(float) - 1) / sizeof(float); /* one byte per output */
}

typedef struct pool_job {
    const layer *l;
    const layer_call *call;
} pool_job;

enum {
    ROW_BLOCK = 256,   /* outputs of a row handled at once */
    ROW_VECTOR = 16,   /* floats in the widest vector */
    SMALL_PLANE = 1024 /* outputs of a plane handled at once when its rows are short */
};

/* Outputs [ox0, ox1) of one output row: the window's first element, then each further offset
 * (i, j) in row-major order replaces it where it is greater or NaN. The loops run along the output
 * row without branches, so they vectorize (the winners' offsets are tracked as int32, the width of
 * the floats beside them, and narrowed to bytes at the end); an element-by-element scan
 * mispredicts on every other comparison. A window that hangs over the border (ceil rounding) skips
 * the offsets past it: rows past H entirely, and column offset j in the outputs whose column
 * ox * s + j is past W. */
static inline __attribute__((always_inline)) void maxpool_row(const float *in, int H, int W, int k,
                                                              int s, int oy, int ox0, int ox1,
                                                              float *out, uint8_t *arg)
{
    int32_t offsets[ROW_BLOCK];
    const int n_out = ox1 - ox0;
    const float *first = in + oy * s * W + ox0 * s;
    const int rows = H - oy * s < k ? H - oy * s : k;
    for (int x = 0; x < n_out; x++) {
        out[x] = first[x * s];
        offsets[x] = 0;
    }
    for (int i = 0; i < rows; i++)
        for (int j = i == 0 ? 1 : 0; j < k; j++) {
            const float *row = first + i * W + j;
            const int32_t offset = i * k + j;
            const int inside = (W - 1 - j) / s + 1 - ox0; /* outputs whose column ox * s + j < W */
            const int n = inside < n_out ? inside : n_out;
            if (arg) {
                for (int x = 0; x < n; x++) {
                    const float v = row[x * s];
                    const bool take = v > out[x] || isnan(v);
                    out[x] = take ? v : out[x];
                    offsets[x] = take ? offset : offsets[x];
                }
            } else {
                for (int x = 0; x < n; x++) {
                    const float v = row[x * s];
                    out[x] = v > out[x] || isnan(v) ? v : out[x];
                }
            }
        }
    if (arg)
        for (int x = 0; x < n_out; x++)
            arg[x] = (uint8_t)offsets[x];
}

/* A small plane's outputs all at once, as one vector loop over the plane per window offset: its
 * rows are too short for maxpool_row's loops, which would run mostly in their scalar remainders.
 * The window's first elements are gathered through `first` (their index in the plane), the same
 * for every plane. Only for windows that stay inside the input. */
static inline __attribute__((always_inline)) void
maxpool_small_plane(const float *restrict in, int W, int k, const int32_t *restrict first, int n,
                    float *restrict out, uint8_t *restrict arg)
{
    int32_t offsets[SMALL_PLANE];
    for (int o = 0; o < n; o++) {
        out[o] = in[first[o]];
        offsets[o] = 0;
    }
    for (int i = 0; i < k; i++)
        for (int j = i == 0 ? 1 : 0; j < k; j++) {
            const float *window = in + i * W + j;
            const int32_t offset = i * k + j;
            for (int o = 0; o < n; o++) {
                const float v = window[first[o]];
                const bool take = v > out[o] || isnan(v);
                out[o] = take ? v : out[o];
                offsets[o] = take ? offset : offsets[o];
            }
        }
    if (arg)
        for (int o = 0; o < n; o++)
            arg[o] = (uint8_t)offsets[o];
}

SIMD_CLONES static void maxpool_forward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const int k = j->l->pool.kernel, s = j->l->pool.stride;
    const int H = call->in_shape.h, W = call->in_shape.w;
    const int OH = call->out_shape.h, OW = call->out_shape.w;
    if (OW < 2 * ROW_VECTOR && OH * OW <= SMALL_PLANE && (OH - 1) * s + k <= H &&
        (OW - 1) * s + k <= W && (size_t)H * W <= INT32_MAX) {
        int32_t first[SMALL_PLANE];
        for (int o = 0; o < OH * OW; o++)
            first[o] = o / OW * s * W + o % OW * s;
        for (int64_t p = begin; p < end; p++) {
            const size_t at = (size_t)p * OH * OW;
            maxpool_small_plane(call->in + (size_t)p * H * W, W, k, first, OH * OW, call->out + at,
                                call->aux ? (uint8_t *)call->aux + at : NULL);
        }
        return;
    }
    for (int64_t p = begin; p < end; p++) {
        const float *in = call->in + (size_t)p * H * W;
        float *out = call->out + (size_t)p * OH * OW;
        uint8_t *arg = call->aux ? (uint8_t *)call->aux + (size_t)p * OH * OW : NULL;
        for (int oy = 0; oy < OH; oy++)
            for (int ox0 = 0; ox0 < OW; ox0 += ROW_BLOCK) {
                const int ox1 = OW - ox0 < ROW_BLOCK ? OW : ox0 + ROW_BLOCK;
                const size_t at = (size_t)oy * OW + (size_t)ox0;
                maxpool_row(in, H, W, k, s, oy, ox0, ox1, out + at, arg ? arg + at : NULL);
            }
    }
}

static void maxpool_backward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const int k = j->l->pool.kernel, s = j->l->pool.stride, W = call->in_shape.w;
    const int OH = call->out_shape.h, OW = call->out_shape.w;
    const size_t in_plane = (size_t)call->in_shape.h * W, out_plane = (size_t)OH * OW;
    int delta[256]; /* a window offset's distance from the window's first element */
    for (int o = 0; o < k * k; o++)
        delta[o] = o / k * W + o % k;
    for (int64_t p = begin; p < end; p++) {
        float *din = call->din + (size_t)p * in_plane;
        const float *dout = call->dout + (size_t)p * out_plane;
        const uint8_t *arg = (const uint8_t *)call->aux + (size_t)p * out_plane;
        memset(din, 0, sizeof(float) * in_plane);
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const int o = oy * OW + ox;
                din[oy * s * W + ox * s + delta[arg[o]]] += dout[o];
            }
    }
}

static void maxpool_forward(const layer *l, const layer_call *call)
{
    pool_job j = {l, call};
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.c, maxpool_forward_planes, &j);
}

static void maxpool_backward(const layer *l, const layer_call *call)
{
    if (call->din == NULL)
        return;
    pool_job j = {l, call};
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.c, maxpool_backward_planes, &j);
}

const layer_ops maxpool_ops = {
    .output_shape = maxpool_output_shape,
    .aux_floats = maxpool_aux_floats,
    .scratch_floats = layer_no_scratch,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .in_place = false,
};
