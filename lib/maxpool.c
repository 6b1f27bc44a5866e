/* Overlapping max pooling (the paper's 3x3 windows at stride 2), no padding. The output size
 * rounds down, as PyTorch's MaxPool2d, or with `ceil` up, as Caffe (and ceil_mode): the last
 * window then hangs over the border and takes the maximum of what it covers. Ties go to the first
 * maximum in row-major order and a NaN wins, exactly as PyTorch chooses, so gradients are routed
 * to the same element. Forward keeps, for backward, where in its window each output's winner is:
 * one byte per output (the window's row-major offset; kernels up to 15x15), a quarter of what an
 * input index would take, in the largest buffers a training plan holds after the activations.
 * Work is split over (image, channel) planes. */
#include "maxpool.h"

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

/* The paper's 3x3 windows at stride 2 on a small plane, separably and in whole vectors: the
 * maximum of each window row along every input row, then of three of those down every column,
 * then the rows the output takes. Row maxima first, then down the columns, is the row-major order
 * of the rule for ties and NaN (the first maximum in its row, then the first row that holds it;
 * the last NaN likewise), so the winners are the ones an element-by-element scan picks.
 *
 * The plane is copied with its rows OWe = ceil(W / 2) pairs wide, so that row maxima are one flat
 * vector loop: the one at column x of row r covers elements 2 (r OWe + x) + 0, 1, 2 of the copy,
 * taken from two pairs of vectors by de-interleaving them (the compiler does not vectorise the
 * stride-2 loads of the scan below). Column maxima are made for every row, twice what the output
 * takes, and still cost less than reading windows across rows element by element: pooling the
 * 28x28 and 13x13 planes of MINI this way is about twice as fast as maxpool_small_plane. */
/* 8 lanes: GCC compiles compares of 16 floats into integer masks element by element for AVX-512F
 * alone (it lacks AVX-512DQ); 8 take AVX's compares. */
#define POOL_WIDTH 8
typedef float pool_floats __attribute__((vector_size(POOL_WIDTH * sizeof(float))));
typedef int32_t pool_ints __attribute__((vector_size(POOL_WIDTH * sizeof(int32_t))));

enum {
    PAIRS_PLANE = 512,           /* H x OWe handled at once */
    PAIRS_SLACK = 3 * POOL_WIDTH /* the last vectors of each stage read past the plane */
};

typedef struct pairs_plane {
    float copy[2 * PAIRS_PLANE + 2 * PAIRS_SLACK];
    float row_max[PAIRS_PLANE + PAIRS_SLACK], col_max[PAIRS_PLANE + PAIRS_SLACK];
    int32_t row_at[PAIRS_PLANE + PAIRS_SLACK], col_at[PAIRS_PLANE + PAIRS_SLACK];
} pairs_plane;

static bool pairs_applies(int k, int s, int H, int W, int OH, int OW)
{
    const int OWe = (W + 1) / 2;
    return k == 3 && s == 2 && H * OWe <= PAIRS_PLANE && (OH - 1) * 2 + 3 <= H &&
           (OW - 1) * 2 + 3 <= W;
}

/* v takes x where x is greater or NaN (the scan's rule), and at takes offset there. */
static inline __attribute__((always_inline)) void
take_max(pool_floats *v, pool_ints *at, const pool_floats *x, const pool_ints *offset)
{
    const pool_ints take = (*x > *v) | (*x != *x);
    *v = (pool_floats)(((pool_ints)*x & take) | ((pool_ints)*v & ~take));
    *at = (*offset & take) | (*at & ~take);
}

static inline __attribute__((always_inline)) void maxpool_pairs(const float *in, int H, int W,
                                                                int OH, int OW, pairs_plane *b,
                                                                float *out, uint8_t *arg)
{
    const int OWe = (W + 1) / 2, stride = 2 * OWe;
    for (int y = 0; y < H; y++) {
        memcpy(b->copy + y * stride, in + (size_t)y * W, sizeof(float) * (size_t)W);
        if (stride > W)
            b->copy[y * stride + W] = 0.0f;
    }
    memset(b->copy + H * stride, 0, sizeof(float) * 2 * PAIRS_SLACK);
    /* Row maxima for every column of every row, and one vector beyond (what the columns read). */
    const int rows = H * OWe + POOL_WIDTH;
    for (int q = 0; q < rows; q += POOL_WIDTH) {
        pool_floats a, c, d, e;
        memcpy(&a, b->copy + 2 * q, sizeof a);
        memcpy(&c, b->copy + 2 * q + POOL_WIDTH, sizeof c);
        memcpy(&d, b->copy + 2 * q + 2, sizeof d);
        memcpy(&e, b->copy + 2 * q + 2 + POOL_WIDTH, sizeof e);
        pool_floats v = __builtin_shufflevector(a, c, 0, 2, 4, 6, 8, 10, 12, 14);
        const pool_floats second = __builtin_shufflevector(a, c, 1, 3, 5, 7, 9, 11, 13, 15),
                          third = __builtin_shufflevector(d, e, 0, 2, 4, 6, 8, 10, 12, 14);
        const pool_ints one = (pool_ints){0} + 1, two = (pool_ints){0} + 2;
        pool_ints at = {0};
        take_max(&v, &at, &second, &one);
        take_max(&v, &at, &third, &two);
        memcpy(b->row_max + q, &v, sizeof v);
        memcpy(b->row_at + q, &at, sizeof at);
    }
    /* Column maxima for every row a window can start at. */
    const int cols = (H - 2) * OWe;
    for (int q = 0; q < cols; q += POOL_WIDTH) {
        pool_floats v;
        pool_ints at;
        memcpy(&v, b->row_max + q, sizeof v);
        memcpy(&at, b->row_at + q, sizeof at);
        for (int i = 1; i < 3; i++) {
            pool_floats x;
            pool_ints x_at;
            memcpy(&x, b->row_max + q + i * OWe, sizeof x);
            memcpy(&x_at, b->row_at + q + i * OWe, sizeof x_at);
            x_at += 3 * i;
            take_max(&v, &at, &x, &x_at);
        }
        memcpy(b->col_max + q, &v, sizeof v);
        memcpy(b->col_at + q, &at, sizeof at);
    }
    for (int oy = 0; oy < OH; oy++)
        for (int x = 0; x < OW; x++) {
            out[oy * OW + x] = b->col_max[oy * stride + x];
            if (arg)
                arg[oy * OW + x] = (uint8_t)b->col_at[oy * stride + x];
        }
}

/* Planes [0, count) from in, their outputs to out and their winners to arg (NULL: inference). */
static inline __attribute__((always_inline)) void forward_planes(const layer *l, shape in_shape,
                                                                 shape out_shape, const float *in,
                                                                 float *out, uint8_t *arg,
                                                                 int64_t count)
{
    const int k = l->pool.kernel, s = l->pool.stride;
    const int H = in_shape.h, W = in_shape.w;
    const int OH = out_shape.h, OW = out_shape.w;
    if (pairs_applies(k, s, H, W, OH, OW)) {
        pairs_plane buffers;
        for (int64_t p = 0; p < count; p++) {
            const size_t at = (size_t)p * OH * OW;
            maxpool_pairs(in + (size_t)p * H * W, H, W, OH, OW, &buffers, out + at,
                          arg ? arg + at : NULL);
        }
        return;
    }
    if (OW < 2 * ROW_VECTOR && OH * OW <= SMALL_PLANE && (OH - 1) * s + k <= H &&
        (OW - 1) * s + k <= W && (size_t)H * W <= INT32_MAX) {
        int32_t first[SMALL_PLANE];
        for (int o = 0; o < OH * OW; o++)
            first[o] = o / OW * s * W + o % OW * s;
        for (int64_t p = 0; p < count; p++) {
            const size_t at = (size_t)p * OH * OW;
            maxpool_small_plane(in + (size_t)p * H * W, W, k, first, OH * OW, out + at,
                                arg ? arg + at : NULL);
        }
        return;
    }
    for (int64_t p = 0; p < count; p++) {
        const float *plane = in + (size_t)p * H * W;
        float *plane_out = out + (size_t)p * OH * OW;
        uint8_t *plane_arg = arg ? arg + (size_t)p * OH * OW : NULL;
        for (int oy = 0; oy < OH; oy++)
            for (int ox0 = 0; ox0 < OW; ox0 += ROW_BLOCK) {
                const int ox1 = OW - ox0 < ROW_BLOCK ? OW : ox0 + ROW_BLOCK;
                const size_t at = (size_t)oy * OW + (size_t)ox0;
                maxpool_row(plane, H, W, k, s, oy, ox0, ox1, plane_out + at,
                            plane_arg ? plane_arg + at : NULL);
            }
    }
}

SIMD_CLONES static void maxpool_forward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const size_t in_plane = (size_t)call->in_shape.h * call->in_shape.w;
    const size_t out_plane = (size_t)call->out_shape.h * call->out_shape.w;
    forward_planes(j->l, call->in_shape, call->out_shape, call->in + (size_t)begin * in_plane,
                   call->out + (size_t)begin * out_plane,
                   call->aux ? (uint8_t *)call->aux + (size_t)begin * out_plane : NULL,
                   end - begin);
}

SIMD_CLONES static void forward_image(const layer *l, const layer_call *call, int64_t image,
                                      const float *in)
{
    const size_t out_image = shape_size(call->out_shape) * (size_t)image;
    forward_planes(l, call->in_shape, call->out_shape, in, call->out + out_image,
                   call->aux ? (uint8_t *)call->aux + out_image : NULL, call->in_shape.c);
}

/* A plain wrapper of the static clone: GCC exports a global clone's dispatcher whatever the
 * visibility, and the library exports only its API. */
void maxpool_forward_image(const layer *l, const layer_call *call, int64_t image, const float *in)
{
    forward_image(l, call, image, in);
}

/* din of planes [0, count) from their output gradient and winners. */
static void backward_planes(const layer *l, shape in_shape, shape out_shape, const float *dout,
                            const uint8_t *arg, float *din, int64_t count)
{
    const int k = l->pool.kernel, s = l->pool.stride, W = in_shape.w;
    const int OH = out_shape.h, OW = out_shape.w;
    const size_t in_plane = (size_t)in_shape.h * W, out_plane = (size_t)OH * OW;
    int delta[256]; /* a window offset's distance from the window's first element */
    for (int o = 0; o < k * k; o++)
        delta[o] = o / k * W + o % k;
    for (int64_t p = 0; p < count; p++) {
        float *plane = din + (size_t)p * in_plane;
        const float *plane_dout = dout + (size_t)p * out_plane;
        const uint8_t *plane_arg = arg + (size_t)p * out_plane;
        memset(plane, 0, sizeof(float) * in_plane);
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const int o = oy * OW + ox;
                plane[oy * s * W + ox * s + delta[plane_arg[o]]] += plane_dout[o];
            }
    }
}

static void maxpool_backward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const size_t in_plane = (size_t)call->in_shape.h * call->in_shape.w;
    const size_t out_plane = (size_t)call->out_shape.h * call->out_shape.w;
    backward_planes(j->l, call->in_shape, call->out_shape, call->dout + (size_t)begin * out_plane,
                    (const uint8_t *)call->aux + (size_t)begin * out_plane,
                    call->din + (size_t)begin * in_plane, end - begin);
}

void maxpool_backward_image(const layer *l, const layer_call *call, int64_t image, float *din)
{
    const size_t out_image = shape_size(call->out_shape) * (size_t)image;
    backward_planes(l, call->in_shape, call->out_shape, call->dout + out_image,
                    (const uint8_t *)call->aux + out_image, din, call->in_shape.c);
}

static void maxpool_forward(const layer *l, const layer_call *call)
{
    if (l->pool.run_by_lrn)
        return;
    pool_job j = {l, call};
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.c, maxpool_forward_planes, &j);
}

static void maxpool_backward(const layer *l, const layer_call *call)
{
    if (call->din == NULL || l->pool.run_by_lrn)
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
