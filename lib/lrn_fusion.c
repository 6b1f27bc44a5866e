/* An LRN running the layers next to it image by image, in the caches.
 *
 * MINI's LRNs sit between layers that move more memory than they compute. Separately, conv1
 * writes 32 maps of 28x28 per image (12.8 MB at a batch of 128) for 58 MFLOP of work, LRN reads
 * them and writes as much for pool1, and backward does the same again the other way: pool1
 * writes its input gradient, LRN reads it with conv1's maps and writes its own, which conv1 reads
 * for its weight gradient. Here the LRN layer runs its neighbours on one image at a time in
 * buffers that stay in the core's cache:
 * - forward: the convolution computes the image's maps, the LRN normalises them, the pooling
 *   pools them; only the pooled maps and their winners reach memory;
 * - backward: the pooling's input gradient is scattered into the cache, the convolution computes
 *   the maps again (one input channel: cheaper than keeping them), the LRN writes its input
 *   gradient into the cache with the ReLU's mask, and the convolution's weight gradient reads it
 *   there.
 * The tensors in between are not planned at all.
 *
 * The results are the separate passes' to the bit: the same kernels on the same values, and the
 * weight gradient's partial sums taken over the same images per part (one item per image, as
 * conv_plane_backward splits the batch) and combined the same way. */
#include "lrn_fusion.h"

#include "conv_plane.h"
#include "lrn.h"
#include "maxpool.h"
#include "memory.h"
#include "parallel.h"

#include <time.h>

bool lrn_fusion_takes_conv(const layer *conv, const layer *lrn, shape in)
{
    return conv->index == 0 && conv_plane_applies(conv) && conv->conv.relu && lrn->lrn.masks_relu &&
           in.c == conv->conv.out_channels && lrn_blocks_are_images(in);
}

bool lrn_fusion_takes_pool(const layer *lrn, const layer *pool, shape in)
{
    return pool->index == lrn->index + 1 && lrn_blocks_are_images(in);
}

bool lrn_fusion_runs(const layer *lrn)
{
    return lrn->lrn.conv_before > 0 || lrn->lrn.runs_pool;
}

static const layer *conv_of(const layer *lrn)
{
    return lrn->lrn.conv_before > 0 ? lrn - lrn->lrn.conv_before : NULL; /* layers are one array */
}

static const layer *pool_of(const layer *lrn)
{
    return lrn->lrn.runs_pool ? lrn + 1 : NULL;
}

static shape conv_in_shape(const layer *conv, shape in)
{
    return (shape){conv->conv.in_channels, in.h, in.w};
}

/* One part's own floats: the LRN's block scratch, then up to three [C][H*W] buffers for one image:
 * the convolution's maps (a), the LRN's output (b) or the pooling's input gradient (g), and the
 * LRN's input gradient (da). */
static size_t part_floats(shape in)
{
    return lrn_part_floats(in) + 3 * memory_round_floats(shape_size(in));
}

/* Layout: the parts' own floats, then the convolution's scratch for all parts. */
size_t lrn_fusion_scratch_floats(const layer *lrn, shape in, int parts, bool training)
{
    const layer *conv = conv_of(lrn);
    return (size_t)parts * part_floats(in) +
           (conv ? conv_plane_scratch_floats(conv, conv_in_shape(conv, in), parts, training) : 0);
}

typedef struct fusion_job {
    const layer *lrn, *conv, *pool;
    const layer_call *call;
    layer_call conv_call, pool_call;
    bool timed;                            /* profiling: time the neighbours' shares */
    double seconds[PARALLEL_MAX_PARTS][3]; /* [part][convolution, LRN, pooling] */
} fusion_job;

static fusion_job job_of(const layer *lrn, const layer_call *call)
{
    fusion_job j = {.lrn = lrn, .conv = conv_of(lrn), .pool = pool_of(lrn), .call = call};
    j.timed = call->fused_shares != NULL;
    const layer_call blank = {.batch = call->batch,
                              .parts = call->parts,
                              .training = call->training,
                              .seed = call->seed,
                              .step = call->step,
                              .first_sample = call->first_sample};
    if (j.conv) {
        j.conv_call = blank;
        j.conv_call.in_shape = conv_in_shape(j.conv, call->in_shape);
        j.conv_call.out_shape = call->in_shape;
        j.conv_call.in = call->fused_in;
        j.conv_call.scratch = call->scratch + (size_t)call->parts * part_floats(call->in_shape);
    }
    if (j.pool) {
        j.pool_call = blank;
        j.pool_call.in_shape = call->in_shape;
        j.pool->ops->output_shape(j.pool, call->in_shape, &j.pool_call.out_shape);
        j.pool_call.out = call->fused_out;
        j.pool_call.aux = call->fused_aux;
        j.pool_call.dout = call->dout;
    }
    return j;
}

/* The clock while profiling; 0 otherwise. */
static double now(const fusion_job *j)
{
    if (!j->timed)
        return 0.0;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct part_buffers {
    float *scratch, *maps, *between, *grads;
} part_buffers;

static part_buffers part_buffers_of(const fusion_job *j, int part)
{
    const shape in = j->call->in_shape;
    const size_t image = memory_round_floats(shape_size(in));
    part_buffers b;
    b.scratch = j->call->scratch + (size_t)part * part_floats(in);
    b.maps = b.scratch + lrn_part_floats(in);
    b.between = b.maps + image;
    b.grads = b.between + image;
    return b;
}

static void forward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    fusion_job *j = ctx;
    const layer_call *call = j->call;
    const size_t hw = (size_t)call->in_shape.h * call->in_shape.w;
    const size_t image = shape_size(call->in_shape);
    const part_buffers b = part_buffers_of(j, part);
    double *seconds = j->seconds[part];
    for (int64_t n = begin; n < end; n++) {
        const double t0 = now(j);
        const float *a = call->in ? call->in + (size_t)n * image : NULL;
        if (j->conv) {
            conv_plane_forward_image(j->conv, &j->conv_call, n, b.maps, part);
            a = b.maps;
        }
        const double t1 = now(j);
        float *out = j->pool ? b.between : call->out + (size_t)n * image;
        lrn_forward_block(j->lrn, call->in_shape, a, out, hw, (int)hw, b.scratch);
        const double t2 = now(j);
        if (j->pool)
            maxpool_forward_image(j->pool, &j->pool_call, n, out);
        seconds[0] += t1 - t0;
        seconds[1] += t2 - t1;
        seconds[2] += now(j) - t2;
    }
}

static void backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    fusion_job *j = ctx;
    const layer_call *call = j->call;
    const size_t hw = (size_t)call->in_shape.h * call->in_shape.w;
    const size_t image = shape_size(call->in_shape);
    const part_buffers b = part_buffers_of(j, part);
    double *seconds = j->seconds[part];
    if (j->conv)
        conv_plane_gradient_clear(j->conv, &j->conv_call, part);
    for (int64_t n = begin; n < end; n++) {
        const double t0 = now(j);
        const float *g = call->dout + (size_t)n * image;
        if (j->pool) {
            maxpool_backward_image(j->pool, &j->pool_call, n, b.between);
            g = b.between;
        }
        /* Computing the maps again belongs to the LRN's backward, which read them unfused. */
        const double t1 = now(j);
        const float *a = call->in ? call->in + (size_t)n * image : NULL;
        if (j->conv) {
            conv_plane_forward_image(j->conv, &j->conv_call, n, b.maps, part);
            a = b.maps;
        }
        float *da = j->conv ? b.grads : call->din + (size_t)n * image;
        lrn_backward_block(j->lrn, call->in_shape, a, g, da, hw, (int)hw, b.scratch);
        const double t2 = now(j);
        if (j->conv)
            conv_plane_gradient_image(j->conv, &j->conv_call, n, da, part, true);
        seconds[2] += t1 - t0;
        seconds[1] += t2 - t1;
        seconds[0] += now(j) - t2;
    }
}

/* Profiling: the shares of the parts' time that the convolution's and the pooling's work took. */
static void report_shares(const fusion_job *j)
{
    if (!j->timed)
        return;
    double sum[3] = {0.0, 0.0, 0.0}, all = 0.0;
    for (int p = 0; p < j->call->parts && p < PARALLEL_MAX_PARTS; p++)
        for (int i = 0; i < 3; i++) {
            sum[i] += j->seconds[p][i];
            all += j->seconds[p][i];
        }
    j->call->fused_shares[0] = j->conv && all > 0.0 ? sum[0] / all : 0.0;
    j->call->fused_shares[1] = j->pool && all > 0.0 ? sum[2] / all : 0.0;
}

void lrn_fusion_forward(const layer *lrn, const layer_call *call)
{
    fusion_job j = job_of(lrn, call);
    /* Images are independent in forward: handed out as threads free up, `part` a thread's slot. */
    parallel_run_balanced(call->parts, call->batch, forward_images, &j);
    report_shares(&j);
}

void lrn_fusion_backward(const layer *lrn, const layer_call *call)
{
    fusion_job j = job_of(lrn, call);
    if (!j.conv && call->din == NULL)
        return;
    /* With the convolution, each part sums its images' weight gradient: fixed parts. Without,
     * the images are independent, as in forward. */
    (j.conv ? parallel_run : parallel_run_balanced)(call->parts, call->batch, backward_images, &j);
    if (j.conv) {
        const double t0 = now(&j);
        conv_plane_gradient_sum(j.conv, &j.conv_call);
        j.seconds[0][0] += now(&j) - t0;
    }
    report_shares(&j);
}
