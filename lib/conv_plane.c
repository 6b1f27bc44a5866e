/* Direct 3x3 convolution of single-channel groups (see conv_plane.h).
 *
 * With one input channel, im2col + GEMM multiplies with an inner dimension of 9 and spends its
 * time writing and reading the unfolding; Winograd has one channel to share its transforms over,
 * and they cost more than they save. Here an H x W plane is one flat vector of H * W values, and
 * the tap (dy, dx) of output p reads input p + (dy - 1) W + (dx - 1) of a copy of the plane with a
 * border of W + 1 zeros before and after it (the rows above and below). One column left of column
 * 0 would wrap onto the previous row's last column, and one right of the last column onto the next
 * row's first, so the left taps read a copy whose last column is zeroed and the right taps one
 * whose first column is zeroed. A block of 16 outputs is then 9 vector multiply-adds per output
 * channel, and its 9 input vectors are loaded once for a block of channels.
 *
 * The input gradient is the same correlation with the taps mirrored, over copies of each output
 * gradient plane. The weight gradient reads each input vector once for two channels and keeps, per
 * part, 16 lanes of partial sums per tap, combined in a fixed order at the end (parts in part
 * order), so the result does not depend on which thread ran what. */
#include "conv_plane.h"

#include "memory.h"
#include "parallel.h"
#include "simd.h"

#include <string.h>

enum {
    VL = SIMD_WIDTH,   /* outputs per vector block */
    TAPS = 9,          /* 3x3 */
    CHANNEL_BLOCK = 8, /* output channels per forward work item */
};

bool conv_plane_applies(const layer *l)
{
    return l->conv.in_channels == l->conv.groups && l->conv.kernel == 3 && l->conv.stride == 1 &&
           l->conv.pad == 1;
}

/* A plane's copy: W + 1 zeros, the plane, W + 1 zeros and VL more for the last partial block. */
static size_t copy_floats(shape in)
{
    return (size_t)in.h * in.w + 2 * ((size_t)in.w + 1) + VL;
}

typedef struct plane_part {
    float *copies[3];      /* one plane, as the taps of column dx = 0, 1, 2 read it (forward) */
    float *dout_copies[3]; /* backward: one output gradient plane, likewise (mirrored taps) */
    float *dweight_lanes;  /* backward: [M][TAPS][VL] */
    float *dbias_lanes;    /* backward: [M][VL] */
} plane_part;

static size_t part_floats(const layer *l, shape in, bool training, size_t *copy)
{
    *copy = memory_round_floats(copy_floats(in));
    size_t floats = 3 * *copy;
    if (training)
        floats += 3 * *copy + memory_round_floats((size_t)l->conv.out_channels * (TAPS + 1) * VL);
    return floats;
}

size_t conv_plane_scratch_floats(const layer *l, shape in, int parts, bool training)
{
    size_t copy;
    return (size_t)parts * part_floats(l, in, training, &copy);
}

static plane_part plane_part_of(const layer *l, const layer_call *call, int part)
{
    size_t copy;
    const size_t per_part = part_floats(l, call->in_shape, call->training, &copy);
    float *at = call->scratch + (size_t)part * per_part;
    plane_part s = {0};
    for (int i = 0; i < 3; i++)
        s.copies[i] = at + (size_t)i * copy;
    if (call->training) {
        for (int i = 0; i < 3; i++)
            s.dout_copies[i] = at + (size_t)(3 + i) * copy;
        s.dweight_lanes = at + 6 * copy;
        s.dbias_lanes = s.dweight_lanes + (size_t)l->conv.out_channels * TAPS * VL;
    }
    return s;
}

/* The three copies of an h x w plane: with its last column zeroed (read by the taps one column to
 * the left in forward, one to the right in the mirrored correlation), as it is, and with its first
 * column zeroed. */
static void copy_plane(const float *src, int h, int w, float *const copies[3])
{
    const size_t border = (size_t)w + 1, hw = (size_t)h * w;
    for (int i = 0; i < 3; i++) {
        float *dst = copies[i];
        memset(dst, 0, sizeof(float) * border);
        memcpy(dst + border, src, sizeof(float) * hw);
        memset(dst + border + hw, 0, sizeof(float) * (border + VL));
    }
    for (int y = 0; y < h; y++) {
        copies[0][border + (size_t)y * w + (size_t)(w - 1)] = 0.0f;
        copies[2][border + (size_t)y * w] = 0.0f;
    }
}

/* Where tap t = 3 dy + dx of output p is read, relative to p + border: forward reads copy dx at
 * p + border + offset, the mirrored correlation copy 2 - dx at p + border - offset. */
static void tap_offsets(int w, ptrdiff_t offset[TAPS])
{
    for (int t = 0; t < TAPS; t++)
        offset[t] = (ptrdiff_t)(t / 3 - 1) * w + (t % 3 - 1);
}

typedef struct plane_job {
    const layer *l;
    const layer_call *call;
    int H, W, M, groups, Mg, blocks; /* channel blocks per group */
    size_t hw, border;
    int active; /* backward: parts that had images, in order */
    const float *part_dweight[PARALLEL_MAX_PARTS], *part_dbias[PARALLEL_MAX_PARTS];
} plane_job;

static plane_job plane_job_of(const layer *l, const layer_call *call)
{
    plane_job j = {.l = l, .call = call};
    j.H = call->in_shape.h;
    j.W = call->in_shape.w;
    j.M = l->conv.out_channels;
    j.groups = l->conv.groups;
    j.Mg = j.M / j.groups;
    j.blocks = (j.Mg + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
    j.hw = (size_t)j.H * j.W;
    j.border = (size_t)j.W + 1;
    return j;
}

typedef simd_floats vec; /* VL floats */
typedef simd_floats_unaligned vec_unaligned;

/* A whole vector is one instruction; the last, partial block of a plane goes lane by lane. */
static inline __attribute__((always_inline)) void load_part(vec *v, const float *x, size_t n)
{
    if (n == VL)
        memcpy(v, x, sizeof *v);
    else
        for (size_t i = 0; i < n; i++)
            (*v)[i] = x[i];
}

static inline __attribute__((always_inline)) void store(float *x, const vec *v, size_t n)
{
    if (n == VL)
        memcpy(x, v, sizeof *v);
    else
        for (size_t i = 0; i < n; i++)
            x[i] = (*v)[i];
}

/* out[c][p] = bias[c] + sum over taps of weight[c][t] * (the tap's input) for channels c + k,
 * k < K, and the n <= VL outputs from p: K independent chains of multiply-adds. Then the ReLU,
 * where the layer applies it (conv.relu). */
static inline __attribute__((always_inline)) void
forward_channels(const vec v[TAPS], const float *weight, const float *bias, bool relu, int c, int K,
                 size_t hw, float *out, size_t p, size_t n)
{
    const float *w = weight + (size_t)c * TAPS;
    vec acc[4];
    for (int k = 0; k < K; k++)
        acc[k] = v[0] * w[k * TAPS] + bias[c + k];
    for (int t = 1; t < TAPS; t++)
        for (int k = 0; k < K; k++)
            acc[k] += v[t] * w[k * TAPS + t];
    if (relu) /* max(acc, 0), keeping NaN: the sign bits' mask clears the negative lanes */
        for (int k = 0; k < K; k++) {
            const vec zero = {0};
            acc[k] = (vec)((simd_ints)acc[k] & ~(acc[k] < zero));
        }
    for (int k = 0; k < K; k++)
        store(out + (size_t)(c + k) * hw + p, &acc[k], n);
}

/* Channels [c0, c1) at the n <= VL outputs from p, the taps' input vectors loaded once. */
static inline __attribute__((always_inline)) void
forward_block(const float *const tap[TAPS], const float *weight, const float *bias, bool relu,
              int c0, int c1, size_t hw, float *out, size_t p, size_t n)
{
    vec v[TAPS];
    for (int t = 0; t < TAPS; t++)
        memcpy(&v[t], tap[t] + p, sizeof(vec));
    int c = c0;
    for (; c + 4 <= c1; c += 4)
        forward_channels(v, weight, bias, relu, c, 4, hw, out, p, n);
    for (; c < c1; c++)
        forward_channels(v, weight, bias, relu, c, 1, hw, out, p, n);
}

/* Output channels [c0, c1) of `out` (the image's [M][H*W]) from the plane in s->copies. */
static inline __attribute__((always_inline)) void
forward_channel_range(const plane_job *j, const plane_part *s, const ptrdiff_t offset[TAPS], int c0,
                      int c1, float *out)
{
    const float *tap[TAPS];
    for (int t = 0; t < TAPS; t++)
        tap[t] = s->copies[t % 3] + j->border + offset[t];
    const bool relu = j->l->conv.relu;
    size_t p = 0;
    for (; p + VL <= j->hw; p += VL)
        forward_block(tap, j->l->weight, j->l->bias, relu, c0, c1, j->hw, out, p, VL);
    if (p < j->hw)
        forward_block(tap, j->l->weight, j->l->bias, relu, c0, c1, j->hw, out, p, j->hw - p);
}

/* Items are (image, group, block of CHANNEL_BLOCK output channels), so that one image on two
 * threads is split too. */
SIMD_CLONES static void forward_items(void *ctx, int64_t begin, int64_t end, int part)
{
    const plane_job *j = ctx;
    const layer_call *call = j->call;
    plane_part s = plane_part_of(j->l, call, part);
    ptrdiff_t offset[TAPS];
    tap_offsets(j->W, offset);
    int64_t copied = -1; /* the plane (image * groups + group) in s.copies */
    for (int64_t item = begin; item < end; item++) {
        const int64_t plane = item / j->blocks;
        const int block = (int)(item % j->blocks), g = (int)(plane % j->groups);
        if (plane != copied) {
            copy_plane(call->in + (size_t)plane * j->hw, j->H, j->W, s.copies);
            copied = plane;
        }
        const int c0 = g * j->Mg + block * CHANNEL_BLOCK;
        const int c1 = c0 + CHANNEL_BLOCK < (g + 1) * j->Mg ? c0 + CHANNEL_BLOCK : (g + 1) * j->Mg;
        forward_channel_range(j, &s, offset, c0, c1,
                              call->out + (size_t)(plane / j->groups) * j->M * j->hw);
    }
}

/* The functions other files call are plain wrappers of static clones: GCC exports a global
 * clone's dispatcher whatever the visibility, and the library exports only its API. */
SIMD_CLONES static void forward_image(const layer *l, const layer_call *call, int64_t image,
                                      float *out, int part)
{
    const plane_job j = plane_job_of(l, call);
    plane_part s = plane_part_of(l, call, part);
    ptrdiff_t offset[TAPS];
    tap_offsets(j.W, offset);
    for (int g = 0; g < j.groups; g++) {
        copy_plane(call->in + ((size_t)image * j.groups + (size_t)g) * j.hw, j.H, j.W, s.copies);
        forward_channel_range(&j, &s, offset, g * j.Mg, (g + 1) * j.Mg, out);
    }
}

void conv_plane_forward_image(const layer *l, const layer_call *call, int64_t image, float *out,
                              int part)
{
    forward_image(l, call, image, out, part);
}

void conv_plane_forward(const layer *l, const layer_call *call)
{
    plane_job j = plane_job_of(l, call);
    parallel_run(call->parts, (int64_t)call->batch * j.groups * j.blocks, forward_items, &j);
}

/* The weight and bias gradients' partial sums of output channels c + k, k < K, over the n <= VL
 * outputs from p: one load of each tap's input for all K channels. */
static inline __attribute__((always_inline)) void
weight_gradient_block(const float *const tap[TAPS], const float *dout, size_t hw, int K, size_t p,
                      size_t n, vec acc[2][TAPS], vec bacc[2])
{
    vec d[2];
    for (int k = 0; k < K; k++) {
        d[k] = (vec){0};
        load_part(&d[k], dout + (size_t)k * hw + p, n);
        /* The next pair of planes: at a batch's scale the gradient comes from memory, and this
         * loop is bound by reading it, not by its arithmetic. */
        __builtin_prefetch(dout + (size_t)(2 + k) * hw + p);
        bacc[k] += d[k];
    }
    for (int t = 0; t < TAPS; t++) {
        /* One load for the K multiply-adds. Left to itself, GCC folds the load into each of them;
         * these loads are unaligned, and twice as many of them bound the loop. A volatile load
         * happens exactly once. */
        const vec x = *(const volatile vec_unaligned *)(tap[t] + p);
        for (int k = 0; k < K; k++)
            acc[k][t] += d[k] * x;
    }
}

/* Output channels c + k, k < K (two at most, so that their sums stay in registers), against their
 * input plane: added to the weight and bias gradients' lanes. */
static inline __attribute__((always_inline)) void
weight_gradient_channels(const float *const tap[TAPS], const float *dout, size_t hw, int K,
                         float *dweight_lanes, float *dbias_lanes)
{
    vec acc[2][TAPS], bacc[2];
    for (int k = 0; k < K; k++) {
        bacc[k] = (vec){0};
        for (int t = 0; t < TAPS; t++)
            acc[k][t] = bacc[k];
    }
    size_t p = 0;
    for (; p + VL <= hw; p += VL)
        weight_gradient_block(tap, dout, hw, K, p, VL, acc, bacc);
    if (p < hw)
        weight_gradient_block(tap, dout, hw, K, p, hw - p, acc, bacc);
    for (int k = 0; k < K; k++) {
        for (int t = 0; t < TAPS; t++)
            for (int i = 0; i < VL; i++)
                dweight_lanes[(k * TAPS + t) * VL + i] += acc[k][t][i];
        for (int i = 0; i < VL; i++)
            dbias_lanes[k * VL + i] += bacc[k][i];
    }
}

/* din[plane] = sum over the group's output channels of the mirrored correlation of their
 * gradient planes. */
static inline __attribute__((always_inline)) void
input_gradient_plane(const plane_job *j, const plane_part *s, const ptrdiff_t offset[TAPS],
                     const float *dout, int g, float *din)
{
    for (int c = g * j->Mg; c < (g + 1) * j->Mg; c++) {
        copy_plane(dout + (size_t)c * j->hw, j->H, j->W, s->dout_copies);
        const float *w = j->l->weight + (size_t)c * TAPS;
        const bool first = c == g * j->Mg;
        for (size_t p = 0; p < j->hw; p += VL) {
            const size_t n = j->hw - p < VL ? j->hw - p : VL;
            vec acc = {0};
            if (!first)
                load_part(&acc, din + p, n);
            for (int t = 0; t < TAPS; t++) {
                vec x;
                memcpy(&x, s->dout_copies[2 - t % 3] + j->border + p - offset[t], sizeof x);
                acc += x * w[t];
            }
            store(din + p, &acc, n);
        }
    }
}

/* The weight and bias gradients' partial sums of group g of one image, whose input plane is in
 * s->copies and whose output gradient is `dout` ([M][H*W]). */
static inline __attribute__((always_inline)) void
weight_gradient_plane(const plane_job *j, const plane_part *s, const ptrdiff_t offset[TAPS],
                      const float *dout, int g)
{
    const float *tap[TAPS];
    for (int t = 0; t < TAPS; t++)
        tap[t] = s->copies[t % 3] + j->border + offset[t];
    int c = g * j->Mg;
    for (; c + 2 <= (g + 1) * j->Mg; c += 2)
        weight_gradient_channels(tap, dout + (size_t)c * j->hw, j->hw, 2,
                                 s->dweight_lanes + (size_t)c * TAPS * VL,
                                 s->dbias_lanes + (size_t)c * VL);
    if (c < (g + 1) * j->Mg)
        weight_gradient_channels(tap, dout + (size_t)c * j->hw, j->hw, 1,
                                 s->dweight_lanes + (size_t)c * TAPS * VL,
                                 s->dbias_lanes + (size_t)c * VL);
}

static void clear_lanes(const plane_job *j, const plane_part *s)
{
    memset(s->dweight_lanes, 0, sizeof(float) * (size_t)j->M * (TAPS + 1) * VL);
}

SIMD_CLONES static void backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const plane_job *j = ctx;
    const layer_call *call = j->call;
    plane_part s = plane_part_of(j->l, call, part);
    ptrdiff_t offset[TAPS];
    tap_offsets(j->W, offset);
    clear_lanes(j, &s);
    for (int64_t n = begin; n < end; n++) {
        const float *dout = call->dout + (size_t)n * j->M * j->hw;
        for (int g = 0; g < j->groups; g++) {
            const size_t plane = (size_t)n * j->groups + (size_t)g;
            copy_plane(call->in + plane * j->hw, j->H, j->W, s.copies);
            weight_gradient_plane(j, &s, offset, dout, g);
            if (call->din)
                input_gradient_plane(j, &s, offset, dout, g, call->din + plane * j->hw);
        }
    }
}

void conv_plane_gradient_clear(const layer *l, const layer_call *call, int part)
{
    const plane_job j = plane_job_of(l, call);
    const plane_part s = plane_part_of(l, call, part);
    clear_lanes(&j, &s);
}

SIMD_CLONES static void gradient_image(const layer *l, const layer_call *call, int64_t image,
                                       const float *dout, int part, bool plane_copied)
{
    const plane_job j = plane_job_of(l, call);
    plane_part s = plane_part_of(l, call, part);
    ptrdiff_t offset[TAPS];
    tap_offsets(j.W, offset);
    for (int g = 0; g < j.groups; g++) {
        if (!plane_copied || j.groups > 1)
            copy_plane(call->in + ((size_t)image * j.groups + (size_t)g) * j.hw, j.H, j.W,
                       s.copies);
        weight_gradient_plane(&j, &s, offset, dout, g);
    }
}

void conv_plane_gradient_image(const layer *l, const layer_call *call, int64_t image,
                               const float *dout, int part, bool plane_copied)
{
    gradient_image(l, call, image, dout, part, plane_copied);
}

/* The gradients: each part's lanes summed in lane order, the parts in part order. */
static void sum_lanes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const plane_job *j = ctx;
    const int64_t weights = (int64_t)j->M * TAPS;
    for (int64_t i = begin; i < end; i++) {
        float sum = 0.0f;
        for (int p = 0; p < j->active; p++) {
            const float *lanes =
                i < weights ? j->part_dweight[p] + i * VL : j->part_dbias[p] + (i - weights) * VL;
            float part_sum = 0.0f;
            for (int k = 0; k < VL; k++)
                part_sum += lanes[k];
            sum += part_sum;
        }
        if (i < weights)
            j->l->dweight[i] = sum;
        else
            j->l->dbias[i - weights] = sum;
    }
}

void conv_plane_gradient_sum(const layer *l, const layer_call *call)
{
    plane_job j = plane_job_of(l, call);
    int active[PARALLEL_MAX_PARTS];
    j.active = parallel_active_parts(call->batch, call->parts, active);
    for (int i = 0; i < j.active; i++) {
        plane_part s = plane_part_of(l, call, active[i]);
        j.part_dweight[i] = s.dweight_lanes;
        j.part_dbias[i] = s.dbias_lanes;
    }
    parallel_run(call->parts, (int64_t)j.M * (TAPS + 1), sum_lanes, &j);
}

void conv_plane_backward(const layer *l, const layer_call *call)
{
    plane_job j = plane_job_of(l, call);
    parallel_run(call->parts, call->batch, backward_images, &j);
    conv_plane_gradient_sum(l, call);
}
