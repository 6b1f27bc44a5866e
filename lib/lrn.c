/* Local response normalisation across channels, PyTorch/Caffe convention:
 *
 *     s_c = k + (alpha / n) * (sum of a_c'^2 over c' in [c - n/2, c + (n-1)/2]),  b_c = a_c
 * s_c^-beta
 *
 * Backward:
 *
 *     da_c = g_c s_c^-beta - (2 alpha beta / n) a_c (sum of g_c' b_c' / s_c' over the c' whose
 *            window holds c)
 *
 * Work is split over blocks of image rows. Forward keeps nothing: backward recomputes s from a,
 * which it reads anyway. The layer streams activations far larger than the caches, so the
 * divisions and square roots of the recomputation cost less than writing 1 / s and reading it
 * (and b) back: a third of the layer's memory traffic, and its activation memory. After a ReLU
 * (lrn.masks_relu), backward also applies the ReLU's mask to what it writes, saving the ReLU's
 * own pass over the gradient.
 */
#include "lrn.h"

#include "lrn_fusion.h"
#include "memory.h"
#include "parallel.h"
#include "simd.h"

#include <math.h>

/* out[x] = s[x]^-beta. The paper's beta = 0.75 takes two square roots instead of powf, in a loop of
 * its own so that it vectorizes. */
static inline void pow_neg_beta(const float *s, int width, float beta, float *out)
{
    if (beta == 0.75f) {
        for (int x = 0; x < width; x++)
            out[x] = 1.0f / (sqrtf(s[x]) * sqrtf(sqrtf(s[x])));
    } else {
        for (int x = 0; x < width; x++)
            out[x] = powf(s[x], -beta);
    }
}

/* factor[x] = s[x]^-beta and over[x] = s[x]^-(beta + 1), for backward: one division for both. */
static inline void pow_neg_beta_and_over(const float *s, int width, float beta, float *factor,
                                         float *over)
{
    if (beta == 0.75f) {
        for (int x = 0; x < width; x++) {
            const float root = sqrtf(s[x]);
            over[x] = 1.0f / (s[x] * root * sqrtf(root));
            factor[x] = over[x] * s[x];
        }
    } else {
        for (int x = 0; x < width; x++) {
            factor[x] = powf(s[x], -beta);
            over[x] = factor[x] / s[x];
        }
    }
}

/* Work items are blocks of whole rows of one image: a block is contiguous within each channel,
 * long enough (about LRN_SPAN floats) for the loops along it to vectorize well and for the
 * hardware to prefetch each channel's stretch (MINI's 28x28 planes whole: a third faster than
 * 18 rows at a time). */
enum { LRN_SPAN = 1024 };

static int rows_per_block(shape in)
{
    int rows = LRN_SPAN / in.w;
    return rows < 1 ? 1 : rows > in.h ? in.h : rows;
}

/* One part's scratch: two [C, span] arrays (squares, then backward's g b / s) and three [span]
 * rows (window sums, s, and s^-beta or s^-(beta + 1)). */
bool lrn_blocks_are_images(shape in)
{
    return rows_per_block(in) == in.h;
}

size_t lrn_part_floats(shape in)
{
    const size_t span = (size_t)rows_per_block(in) * (size_t)in.w;
    return memory_round_floats((size_t)(2 * in.c + 3) * span);
}

static size_t lrn_scratch_floats(const layer *l, shape in, shape out, int batch, int parts,
                                 bool training)
{
    (void)out, (void)batch;
    if (lrn_fusion_runs(l))
        return lrn_fusion_scratch_floats(l, in, parts, training);
    return (size_t)parts * lrn_part_floats(in);
}

/* Item -> the offset of its first element and the number of elements per channel. */
static void block_of(shape in, int64_t item, size_t *base, int *span)
{
    const int rows = rows_per_block(in), blocks = (in.h + rows - 1) / rows;
    const int64_t image = item / blocks;
    const int y0 = (int)(item % blocks) * rows;
    const int y1 = y0 + rows < in.h ? y0 + rows : in.h;
    *base = (size_t)image * in.c * in.h * in.w + (size_t)y0 * in.w;
    *span = (y1 - y0) * in.w;
}

static int64_t block_count(shape in, int batch)
{
    const int rows = rows_per_block(in);
    return (int64_t)batch * ((in.h + rows - 1) / rows);
}

typedef struct lrn_job {
    const layer *l;
    const layer_call *call;
} lrn_job;

/* Window sums along the channels, kept up to date as c advances: sums[x] holds the sum of
 * rows[cc][x] over cc in [c - before, c + after] (clipped to [0, channels)). Moving from c - 1 to c
 * adds one row and drops one, two passes per channel instead of n. (The subtraction loses at most
 * a few ulps of the running sum, next to k = 2 in the denominator: far below float precision of
 * the result.) */
static inline void window_sum(const float *rows, int width, int channels, int c, int before,
                              int after, float *sums)
{
    if (c == 0) {
        for (int x = 0; x < width; x++)
            sums[x] = 0.0f;
        for (int cc = 0; cc <= after && cc < channels; cc++)
            for (int x = 0; x < width; x++)
                sums[x] += rows[(size_t)cc * width + x];
        return;
    }
    if (c + after < channels) {
        const float *add = rows + (size_t)(c + after) * width;
        for (int x = 0; x < width; x++)
            sums[x] += add[x];
    }
    if (c - 1 - before >= 0) {
        const float *drop = rows + (size_t)(c - 1 - before) * width;
        for (int x = 0; x < width; x++)
            sums[x] -= drop[x];
    }
}

/* A block's squares, [C, W] from the block at a (channel planes `plane` apart). */
static inline void block_squares(const float *a, size_t plane, int C, int W, float *squares)
{
    for (int c = 0; c < C; c++)
        for (int x = 0; x < W; x++) {
            float v = a[(size_t)c * plane + x];
            squares[(size_t)c * W + x] = v * v;
        }
}

/* scale = s of channel c, from the block's squares and the window sums, which this advances to c.
 * Forward and backward compute it alike, so they agree to the bit. */
static inline void block_scale(const layer *l, const float *squares, int W, int C, int c,
                               float *sums, float *scale)
{
    const int n = l->lrn.size;
    const float k = l->lrn.k, alpha_n = l->lrn.alpha / (float)n;
    window_sum(squares, W, C, c, n / 2, (n - 1) / 2, sums);
    for (int x = 0; x < W; x++)
        scale[x] = k + alpha_n * sums[x];
}

/* One block's C x W elements per channel (channel planes `plane` floats apart) in `part`, one
 * part's scratch. */
SIMD_CLONES static void forward_block(const layer *l, shape in, const float *a, float *b,
                                      size_t plane, int W, float *part)
{
    const int C = in.c;
    const size_t most = (size_t)rows_per_block(in) * in.w;
    float *squares = part;                        /* [C, span] */
    float *sums = squares + 2 * (size_t)C * most; /* [span] */
    float *scale = sums + most;                   /* [span] */
    float *factor = scale + most;                 /* [span] */
    block_squares(a, plane, C, W, squares);
    for (int c = 0; c < C; c++) {
        block_scale(l, squares, W, C, c, sums, scale);
        pow_neg_beta(scale, W, l->lrn.beta, factor);
        const float *ac = a + (size_t)c * plane;
        float *bc = b + (size_t)c * plane;
        for (int x = 0; x < W; x++)
            bc[x] = ac[x] * factor[x];
    }
}

SIMD_CLONES static void backward_block(const layer *l, shape in, const float *a, const float *g,
                                       float *da, size_t plane, int W, float *part)
{
    const int n = l->lrn.size, C = in.c;
    const float coefficient = 2.0f * l->lrn.alpha * l->lrn.beta / (float)n;
    const bool relu = l->lrn.masks_relu;
    const size_t most = (size_t)rows_per_block(in) * in.w;
    float *squares = part;                 /* [C, span] */
    float *t = squares + (size_t)C * most; /* [C, span] */
    float *sums = t + (size_t)C * most;    /* [span] */
    float *scale = sums + most;            /* [span] */
    float *over = scale + most;            /* [span] */
    block_squares(a, plane, C, W, squares);
    for (int c = 0; c < C; c++) { /* t = g b / s = g a s^-(beta + 1); da holds s^-beta */
        const size_t row = (size_t)c * plane;
        block_scale(l, squares, W, C, c, sums, scale);
        pow_neg_beta_and_over(scale, W, l->lrn.beta, da + row, over);
        for (int x = 0; x < W; x++)
            t[(size_t)c * W + x] = g[row + x] * a[row + x] * over[x];
    }
    for (int c = 0; c < C; c++) {
        /* c lies in the forward window of c' for c' in [c - (n-1)/2, c + n/2]. */
        window_sum(t, W, C, c, (n - 1) / 2, n / 2, sums);
        const size_t row = (size_t)c * plane;
        if (relu) /* the ReLU's mask, as the gradient is written */
            for (int x = 0; x < W; x++)
                da[row + x] = a[row + x] > 0.0f
                                  ? g[row + x] * da[row + x] - coefficient * a[row + x] * sums[x]
                                  : 0.0f;
        else
            for (int x = 0; x < W; x++)
                da[row + x] = g[row + x] * da[row + x] - coefficient * a[row + x] * sums[x];
    }
}

/* Plain wrappers of the static clones: GCC exports a global clone's dispatcher whatever the
 * visibility, and the library exports only its API. */
void lrn_forward_block(const layer *l, shape in, const float *a, float *b, size_t plane, int W,
                       float *part)
{
    forward_block(l, in, a, b, plane, W, part);
}

void lrn_backward_block(const layer *l, shape in, const float *a, const float *g, float *da,
                        size_t plane, int W, float *part)
{
    backward_block(l, in, a, g, da, plane, W, part);
}

static void lrn_forward_rows(void *ctx, int64_t begin, int64_t end, int part)
{
    const lrn_job *j = ctx;
    const layer_call *call = j->call;
    const size_t plane = (size_t)call->in_shape.h * call->in_shape.w;
    float *scratch = call->scratch + (size_t)part * lrn_part_floats(call->in_shape);
    for (int64_t item = begin; item < end; item++) {
        size_t base;
        int W; /* the block's elements per channel */
        block_of(call->in_shape, item, &base, &W);
        lrn_forward_block(j->l, call->in_shape, call->in + base, call->out + base, plane, W,
                          scratch);
    }
}

static void lrn_backward_rows(void *ctx, int64_t begin, int64_t end, int part)
{
    const lrn_job *j = ctx;
    const layer_call *call = j->call;
    const size_t plane = (size_t)call->in_shape.h * call->in_shape.w;
    float *scratch = call->scratch + (size_t)part * lrn_part_floats(call->in_shape);
    for (int64_t item = begin; item < end; item++) {
        size_t base;
        int W; /* the block's elements per channel */
        block_of(call->in_shape, item, &base, &W);
        lrn_backward_block(j->l, call->in_shape, call->in + base, call->dout + base,
                           call->din + base, plane, W, scratch);
    }
}

static void lrn_forward(const layer *l, const layer_call *call)
{
    if (lrn_fusion_runs(l)) {
        lrn_fusion_forward(l, call);
        return;
    }
    lrn_job j = {l, call};
    parallel_run(call->parts, block_count(call->in_shape, call->batch), lrn_forward_rows, &j);
}

static void lrn_backward(const layer *l, const layer_call *call)
{
    if (lrn_fusion_runs(l)) {
        lrn_fusion_backward(l, call);
        return;
    }
    if (call->din == NULL)
        return;
    lrn_job j = {l, call};
    parallel_run(call->parts, block_count(call->in_shape, call->batch), lrn_backward_rows, &j);
}

const layer_ops lrn_ops = {
    .output_shape = layer_same_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = lrn_scratch_floats,
    .forward = lrn_forward,
    .backward = lrn_backward,
    .in_place = false,
};
