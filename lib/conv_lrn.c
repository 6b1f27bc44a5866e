/* The first convolution (computed directly, conv_plane.c), its ReLU and the LRN after them, run
 * image by image inside the LRN layer's passes.
 *
 * Separately, MINI's conv1 writes 32 maps of 28x28 per image (12.8 MB at a batch of 128) for
 * 58 MFLOP of work, LRN reads them back, and in backward LRN reads them again and writes a
 * gradient as large that conv1 reads back for its weight gradient: four trips through memory of
 * a tensor a layer of 9 multiply-adds per output produces faster than memory moves it. Here the
 * LRN computes an image's maps into a buffer that stays in the core's cache and normalises them
 * from there. Backward computes the maps again (one input channel: cheaper than keeping them),
 * writes the LRN's input gradient into a second cached buffer, with the ReLU's mask, and the
 * convolution's weight gradient reads it there. Neither the convolution's output nor its gradient
 * is planned at all.
 *
 * The results are the separate passes' to the bit: the same kernels on the same values, and the
 * weight gradient's partial sums taken over the same images per part (one LRN block per image,
 * as conv_plane_backward splits the batch) and combined the same way. */
#include "conv_lrn.h"

#include "conv_plane.h"
#include "lrn.h"
#include "memory.h"
#include "parallel.h"

#include <time.h>

bool conv_lrn_applies(const layer *conv, const layer *lrn, shape in)
{
    return conv->index == 0 && conv_plane_applies(conv) && conv->conv.relu && lrn->lrn.masks_relu &&
           in.c == conv->conv.out_channels && lrn_blocks_are_images(in);
}

static const layer *conv_of(const layer *lrn)
{
    return lrn - lrn->lrn.conv_before; /* layers are one array */
}

static shape conv_in_shape(const layer *conv, shape in)
{
    return (shape){conv->conv.in_channels, in.h, in.w};
}

/* One part's own floats: the LRN's block scratch, the image's maps and (backward) their
 * gradient, each [C][H*W]. */
static size_t part_floats(shape in, bool training)
{
    return lrn_part_floats(in) + (training ? 2 : 1) * memory_round_floats(shape_size(in));
}

/* Layout: the parts' own floats, then the convolution's scratch for all parts. */
size_t conv_lrn_scratch_floats(const layer *lrn, shape in, int parts, bool training)
{
    const layer *conv = conv_of(lrn);
    return (size_t)parts * part_floats(in, training) +
           conv_plane_scratch_floats(conv, conv_in_shape(conv, in), parts, training);
}

typedef struct conv_lrn_job {
    const layer *lrn, *conv;
    const layer_call *call;
    layer_call conv_call;
    bool timed;                            /* profiling: time the convolution's share */
    double seconds[PARALLEL_MAX_PARTS][2]; /* [part][0: convolution, 1: LRN] */
} conv_lrn_job;

static conv_lrn_job job_of(const layer *lrn, const layer_call *call)
{
    conv_lrn_job j = {.lrn = lrn, .conv = conv_of(lrn), .call = call};
    j.timed = call->fused_share != NULL;
    j.conv_call = *call;
    j.conv_call.in_shape = conv_in_shape(j.conv, call->in_shape);
    j.conv_call.out_shape = call->in_shape;
    j.conv_call.in = call->fused_in;
    j.conv_call.out = NULL;
    j.conv_call.dout = NULL;
    j.conv_call.din = NULL;
    j.conv_call.aux = NULL;
    j.conv_call.scratch =
        call->scratch + (size_t)call->parts * part_floats(call->in_shape, call->training);
    return j;
}

static double now(const conv_lrn_job *j)
{
    if (!j->timed)
        return 0.0;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The part's LRN scratch and its maps buffer; `grads` (backward) follows the maps. */
static float *part_scratch(const conv_lrn_job *j, int part, float **maps)
{
    const shape in = j->call->in_shape;
    float *at = j->call->scratch + (size_t)part * part_floats(in, j->call->training);
    *maps = at + lrn_part_floats(in);
    return at;
}

static void forward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    conv_lrn_job *j = ctx;
    const layer_call *call = j->call;
    const size_t hw = (size_t)call->in_shape.h * call->in_shape.w,
                 image = shape_size(call->in_shape);
    float *maps, *scratch = part_scratch(j, part, &maps);
    for (int64_t n = begin; n < end; n++) {
        const double t0 = now(j);
        conv_plane_forward_image(j->conv, &j->conv_call, n, maps, part);
        const double t1 = now(j);
        lrn_forward_block(j->lrn, call->in_shape, maps, call->out + (size_t)n * image, hw, (int)hw,
                          scratch);
        j->seconds[part][0] += t1 - t0;
        j->seconds[part][1] += now(j) - t1;
    }
}

static void backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    conv_lrn_job *j = ctx;
    const layer_call *call = j->call;
    const size_t hw = (size_t)call->in_shape.h * call->in_shape.w,
                 image = shape_size(call->in_shape);
    float *maps, *scratch = part_scratch(j, part, &maps);
    float *grads = maps + memory_round_floats(image);
    conv_plane_gradient_clear(j->conv, &j->conv_call, part);
    for (int64_t n = begin; n < end; n++) {
        /* Computing the maps again belongs to the LRN's backward, which read them unfused. */
        const double t0 = now(j);
        conv_plane_forward_image(j->conv, &j->conv_call, n, maps, part);
        lrn_backward_block(j->lrn, call->in_shape, maps, call->dout + (size_t)n * image, grads, hw,
                           (int)hw, scratch);
        const double t1 = now(j);
        conv_plane_gradient_image(j->conv, &j->conv_call, n, grads, part);
        j->seconds[part][0] += now(j) - t1;
        j->seconds[part][1] += t1 - t0;
    }
}

/* Profiling: the share of the parts' time that the convolution's work took. */
static void report_share(const conv_lrn_job *j)
{
    if (!j->timed)
        return;
    double conv = 0.0, all = 0.0;
    for (int p = 0; p < j->call->parts && p < PARALLEL_MAX_PARTS; p++) {
        conv += j->seconds[p][0];
        all += j->seconds[p][0] + j->seconds[p][1];
    }
    *j->call->fused_share = all > 0.0 ? conv / all : 0.0;
}

void conv_lrn_forward(const layer *lrn, const layer_call *call)
{
    conv_lrn_job j = job_of(lrn, call);
    parallel_run(call->parts, call->batch, forward_images, &j);
    report_share(&j);
}

void conv_lrn_backward(const layer *lrn, const layer_call *call)
{
    conv_lrn_job j = job_of(lrn, call);
    parallel_run(call->parts, call->batch, backward_images, &j);
    const double t0 = now(&j);
    conv_plane_gradient_sum(j.conv, &j.conv_call);
    j.seconds[0][0] += now(&j) - t0;
    report_share(&j);
}
