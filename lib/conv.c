/* Convolution with stride, padding and groups, as im2col + one OpenBLAS sgemm per group, or as
 * Winograd's minimal filtering (winograd.c) for the layers that it computes faster, or directly
 * (conv_plane.c) for 3x3 layers whose groups read one input channel each.
 *
 * Work is split over images: each parallel part unfolds a chunk of its images side by side (enough
 * columns to keep the GEMM efficient on small feature maps), multiplies, and scatters the result
 * into NCHW with the bias added. Backward recomputes the unfolding (cheaper than keeping it), forms
 * each part's weight gradient in its own scratch, reuses the column buffer for the input gradient
 * and folds it back with col2im; the parts' weight gradients are then summed in a fixed order. A
 * batch smaller than the number of parts (inference on one image) is split inside the image
 * instead: over rows of the unfolding, then over output channels. */
#include "conv_plane.h"
#include "im2col.h"
#include "layer.h"
#include "memory.h"
#include "parallel.h"
#include "winograd.h"

#include <cblas.h>
#include <string.h>

enum { CONV_TARGET_COLUMNS = 1024, CONV_COLUMN_BLOCK = 16 };

static bool conv_output_shape(const layer *l, shape in, shape *out)
{
    const int k = l->conv.kernel, s = l->conv.stride, p = l->conv.pad;
    if (in.c != l->conv.in_channels || in.h + 2 * p < k || in.w + 2 * p < k)
        return false;
    out->c = l->conv.out_channels;
    out->h = (in.h + 2 * p - k) / s + 1;
    out->w = (in.w + 2 * p - k) / s + 1;
    return true;
}

/* How many images one GEMM covers. */
static int conv_chunk(shape out, int batch, int parts)
{
    int per_part = (batch + parts - 1) / parts;
    int hw = out.h * out.w;
    int chunk = (CONV_TARGET_COLUMNS + hw - 1) / hw;
    if (chunk > per_part)
        chunk = per_part;
    return chunk < 1 ? 1 : chunk;
}

/* A part's scratch: [columns | gathered output or gradient (when a GEMM covers several images) |
 * one padded image | weight gradient | bias gradient (training only)]. */
typedef struct conv_scratch {
    float *col, *buf, *padded, *dweight, *dbias;
} conv_scratch;

static size_t conv_rows(const layer *l)
{
    return (size_t)l->conv.in_channels * l->conv.kernel * l->conv.kernel;
}

typedef struct conv_scratch_layout {
    size_t col, buf, padded, dweight, dbias; /* floats of each, rounded */
    size_t per_part;
    int parts; /* parts that use scratch */
} conv_scratch_layout;

static conv_scratch_layout conv_layout(const layer *l, shape in, shape out, int batch, int parts,
                                       bool training)
{
    const int chunk = conv_chunk(out, batch, parts);
    const size_t cols = (size_t)chunk * out.h * out.w;
    conv_scratch_layout s;
    s.col = memory_round_floats(conv_rows(l) * cols);
    s.buf = chunk > 1 ? memory_round_floats((size_t)out.c * cols) : 0;
    s.padded = memory_round_floats(im2col_padded_floats(
        &(conv_geometry){.channels = in.c, .height = in.h, .width = in.w, .pad = l->conv.pad}));
    s.dweight = training ? memory_round_floats(layer_weight_floats(l)) : 0;
    s.dbias = training ? memory_round_floats((size_t)out.c) : 0;
    s.per_part = s.col + s.buf + s.padded + s.dweight + s.dbias;
    /* Inference on fewer images than parts is split inside each image, over one shared unfolding.
     */
    s.parts = training || batch >= parts ? parts : 1;
    return s;
}

/* Whether a call runs Winograd's algorithm (winograd.c) rather than im2col + GEMM: for the layers
 * it applies to (3x3, 5x5 and 11x11 / 4 with enough channels), whenever the work is split over
 * images. */
static bool conv_uses_winograd(const layer *l, const layer_call *call)
{
    return winograd_applies(l, call->in_shape) && (call->training || call->batch >= call->parts);
}

static size_t conv_scratch_floats(const layer *l, shape in, shape out, int batch, int parts,
                                  bool training)
{
    if (conv_plane_applies(l))
        return conv_plane_scratch_floats(l, in, parts, training);
    conv_scratch_layout s = conv_layout(l, in, out, batch, parts, training);
    size_t floats = (size_t)s.parts * s.per_part;
    if (winograd_applies(l, in)) { /* a smaller batch later may still take the im2col path */
        size_t wino = winograd_scratch_floats(l, in, out, batch, parts, training);
        floats = wino > floats ? wino : floats;
    }
    return floats;
}

static conv_scratch conv_scratch_of(const layer *l, const layer_call *call, int part)
{
    conv_scratch_layout layout =
        conv_layout(l, call->in_shape, call->out_shape, call->batch, call->parts, call->training);
    conv_scratch s;
    s.col = call->scratch + (size_t)part * layout.per_part;
    s.buf = s.col + layout.col;
    s.padded = s.buf + layout.buf;
    s.dweight = s.padded + layout.padded;
    s.dbias = s.dweight + layout.dweight;
    return s;
}

typedef struct conv_job {
    const layer *l;
    const layer_call *call;
    conv_geometry geometry;
    int chunk;
    size_t hw, in_size, out_size;
    size_t rows, rows_per_group; /* K and K / groups */
    size_t out_per_group;        /* M / groups */
    const float *col;            /* within-image split: the shared unfolding */
    const float *image;          /* padded */
    float *image_out;
    int active; /* backward: parts that had images, and their gradients */
    const float *part_dweight[PARALLEL_MAX_PARTS];
    const float *part_dbias[PARALLEL_MAX_PARTS];
} conv_job;

static conv_job conv_job_of(const layer *l, const layer_call *call)
{
    conv_job j = {.l = l, .call = call};
    j.geometry = (conv_geometry){
        .channels = call->in_shape.c,
        .height = call->in_shape.h,
        .width = call->in_shape.w,
        .kernel = l->conv.kernel,
        .stride = l->conv.stride,
        .pad = l->conv.pad,
        .out_h = call->out_shape.h,
        .out_w = call->out_shape.w,
    };
    j.chunk = conv_chunk(call->out_shape, call->batch, call->parts);
    j.hw = (size_t)call->out_shape.h * call->out_shape.w;
    j.in_size = shape_size(call->in_shape);
    j.out_size = shape_size(call->out_shape);
    j.rows = conv_rows(l);
    j.rows_per_group = j.rows / (size_t)l->conv.groups;
    j.out_per_group = (size_t)l->conv.out_channels / (size_t)l->conv.groups;
    return j;
}

/* The image with its zero border: written to `buf`, or the image itself when there is none. */
static const float *padded_image(const conv_job *j, const float *image, float *buf)
{
    if (j->geometry.pad == 0)
        return image;
    im2col_pad(&j->geometry, image, buf);
    return buf;
}

static void unfold_chunk(const conv_job *j, const float *images, int count, conv_scratch *s)
{
    size_t cols = (size_t)count * j->hw;
    for (int c = 0; c < count; c++)
        im2col(&j->geometry, padded_image(j, images + (size_t)c * j->in_size, s->padded),
               s->col + (size_t)c * j->hw, cols, 0, (int)j->rows);
}

/* out = src + the bias of output channel m, and the ReLU where the layer applies it (conv.relu):
 * the epilogue of every GEMM path (src may be out). */
static void add_bias(const layer *l, int m, const float *src, size_t n, float *out)
{
    const float b = l->bias[m];
    if (l->conv.relu)
        for (size_t p = 0; p < n; p++)
            out[p] = relu_value(src[p] + b);
    else
        for (size_t p = 0; p < n; p++)
            out[p] = src[p] + b;
}

static void conv_forward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const conv_job *j = ctx;
    const layer *l = j->l;
    conv_scratch s = conv_scratch_of(l, j->call, part);
    const int groups = l->conv.groups, M = l->conv.out_channels;
    for (int64_t n0 = begin; n0 < end; n0 += j->chunk) {
        int count = (int)(end - n0 < j->chunk ? end - n0 : j->chunk);
        size_t cols = (size_t)count * j->hw;
        unfold_chunk(j, j->call->in + (size_t)n0 * j->in_size, count, &s);
        float *dst = count == 1 ? j->call->out + (size_t)n0 * j->out_size : s.buf;
        for (int g = 0; g < groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->out_per_group, (int)cols,
                        (int)j->rows_per_group, 1.0f,
                        l->weight + (size_t)g * j->out_per_group * j->rows_per_group,
                        (int)j->rows_per_group, s.col + (size_t)g * j->rows_per_group * cols,
                        (int)cols, 0.0f, dst + (size_t)g * j->out_per_group * cols, (int)cols);
        /* [M, count * hw] -> NCHW, adding the bias on the way. */
        for (int c = 0; c < count; c++) {
            float *out = j->call->out + (size_t)(n0 + c) * j->out_size;
            for (int m = 0; m < M; m++)
                add_bias(l, m, dst + (size_t)m * cols + (size_t)c * j->hw, j->hw,
                         out + (size_t)m * j->hw);
        }
    }
}

static void conv_unfold_rows(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const conv_job *j = ctx;
    im2col(&j->geometry, j->image, (float *)j->col, j->hw, (int)begin, (int)end);
}

static void conv_multiply_channels(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const conv_job *j = ctx;
    const layer *l = j->l;
    for (int64_t m0 = begin; m0 < end;) {
        size_t g = (size_t)m0 / j->out_per_group;
        int64_t m1 = (int64_t)((g + 1) * j->out_per_group);
        if (m1 > end)
            m1 = end;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)j->hw,
                    (int)j->rows_per_group, 1.0f, l->weight + (size_t)m0 * j->rows_per_group,
                    (int)j->rows_per_group, j->col + g * j->rows_per_group * j->hw, (int)j->hw,
                    0.0f, j->image_out + (size_t)m0 * j->hw, (int)j->hw);
        for (int64_t m = m0; m < m1; m++)
            add_bias(l, (int)m, j->image_out + (size_t)m * j->hw, j->hw,
                     j->image_out + (size_t)m * j->hw);
        m0 = m1;
    }
}

/* Columns [begin, end) of the output, in blocks of CONV_COLUMN_BLOCK, for every group. */
static void conv_multiply_columns(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const conv_job *j = ctx;
    const layer *l = j->l;
    const size_t p0 = (size_t)begin * CONV_COLUMN_BLOCK;
    const size_t p1 =
        (size_t)end * CONV_COLUMN_BLOCK < j->hw ? (size_t)end * CONV_COLUMN_BLOCK : j->hw;
    const size_t Mg = j->out_per_group, Kg = j->rows_per_group;
    for (int g = 0; g < l->conv.groups; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Mg, (int)(p1 - p0), (int)Kg,
                    1.0f, l->weight + (size_t)g * Mg * Kg, (int)Kg,
                    j->col + (size_t)g * Kg * j->hw + p0, (int)j->hw, 0.0f,
                    j->image_out + (size_t)g * Mg * j->hw + p0, (int)j->hw);
    for (int m = 0; m < l->conv.out_channels; m++)
        add_bias(l, m, j->image_out + (size_t)m * j->hw + p0, p1 - p0,
                 j->image_out + (size_t)m * j->hw + p0);
}

static void conv_forward(const layer *l, const layer_call *call)
{
    if (l->conv.run_by_lrn)
        return;
    if (conv_plane_applies(l)) {
        conv_plane_forward(l, call);
        return;
    }
    if (conv_uses_winograd(l, call)) {
        winograd_forward(l, call);
        return;
    }
    conv_job j = conv_job_of(l, call);
    if (call->batch >= call->parts) {
        parallel_run(call->parts, call->batch, conv_forward_images, &j);
        return;
    }
    conv_scratch s = conv_scratch_of(l, call, 0);
    j.col = s.col;
    /* Each part packs the operand it multiplies in full: split the larger one (the unfolded
     * image, K x hw, against the weights, M x K) so that it is packed once, not once per part. */
    const bool by_columns = j.hw > (size_t)l->conv.out_channels;
    for (int n = 0; n < call->batch; n++) {
        j.image = padded_image(&j, call->in + (size_t)n * j.in_size, s.padded);
        j.image_out = call->out + (size_t)n * j.out_size;
        parallel_run(call->parts, (int64_t)j.rows, conv_unfold_rows, &j);
        if (by_columns)
            parallel_run(call->parts, (int64_t)((j.hw + CONV_COLUMN_BLOCK - 1) / CONV_COLUMN_BLOCK),
                         conv_multiply_columns, &j);
        else
            parallel_run(call->parts, l->conv.out_channels, conv_multiply_channels, &j);
    }
}

static void conv_backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const conv_job *j = ctx;
    const layer *l = j->l;
    const layer_call *call = j->call;
    conv_scratch s = conv_scratch_of(l, call, part);
    const int groups = l->conv.groups, M = l->conv.out_channels;
    const size_t Mg = j->out_per_group, Kg = j->rows_per_group;
    bool first = true;
    for (int64_t n0 = begin; n0 < end; n0 += j->chunk) {
        int count = (int)(end - n0 < j->chunk ? end - n0 : j->chunk);
        size_t cols = (size_t)count * j->hw;
        unfold_chunk(j, call->in + (size_t)n0 * j->in_size, count, &s);
        const float *dout = call->dout + (size_t)n0 * j->out_size;
        if (count > 1) { /* NCHW -> [M, count * hw] */
            for (int c = 0; c < count; c++)
                for (int m = 0; m < M; m++)
                    memcpy(s.buf + (size_t)m * cols + (size_t)c * j->hw,
                           dout + (size_t)c * j->out_size + (size_t)m * j->hw,
                           sizeof(float) * j->hw);
            dout = s.buf;
        }
        for (int g = 0; g < groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Mg, (int)Kg, (int)cols, 1.0f,
                        dout + (size_t)g * Mg * cols, (int)cols, s.col + (size_t)g * Kg * cols,
                        (int)cols, first ? 0.0f : 1.0f, s.dweight + (size_t)g * Mg * Kg, (int)Kg);
        for (int m = 0; m < M; m++) {
            const float sum = layer_sum(dout + (size_t)m * cols, cols);
            s.dbias[m] = first ? sum : s.dbias[m] + sum;
        }
        first = false;
        if (call->din == NULL)
            continue;
        /* The columns are no longer needed: they become the gradient of the unfolding. */
        for (int g = 0; g < groups; g++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kg, (int)cols, (int)Mg, 1.0f,
                        l->weight + (size_t)g * Mg * Kg, (int)Kg, dout + (size_t)g * Mg * cols,
                        (int)cols, 0.0f, s.col + (size_t)g * Kg * cols, (int)cols);
        for (int c = 0; c < count; c++)
            col2im(&j->geometry, s.col + (size_t)c * j->hw, cols, s.padded,
                   call->din + (size_t)(n0 + c) * j->in_size);
    }
}

/* dweight and dbias = the sum of the parts' own, in part order (parts without images skipped). */
static void conv_sum_parts(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const conv_job *j = ctx;
    const layer *l = j->l;
    const size_t weights = layer_weight_floats(l);
    for (int64_t i = begin; i < end; i++) {
        float sum = 0.0f;
        if ((size_t)i < weights) {
            for (int p = 0; p < j->active; p++)
                sum += j->part_dweight[p][i];
            l->dweight[i] = sum;
        } else {
            for (int p = 0; p < j->active; p++)
                sum += j->part_dbias[p][(size_t)i - weights];
            l->dbias[(size_t)i - weights] = sum;
        }
    }
}

static void conv_backward(const layer *l, const layer_call *call)
{
    if (l->conv.run_by_lrn)
        return;
    if (conv_plane_applies(l)) {
        conv_plane_backward(l, call);
        return;
    }
    if (conv_uses_winograd(l, call)) {
        winograd_backward(l, call);
        return;
    }
    conv_job j = conv_job_of(l, call);
    parallel_run(call->parts, call->batch, conv_backward_images, &j);
    int active[PARALLEL_MAX_PARTS];
    j.active = parallel_active_parts(call->batch, call->parts, active);
    for (int i = 0; i < j.active; i++) {
        conv_scratch s = conv_scratch_of(l, call, active[i]);
        j.part_dweight[i] = s.dweight;
        j.part_dbias[i] = s.dbias;
    }
    parallel_run(call->parts, (int64_t)(layer_weight_floats(l) + (size_t)l->conv.out_channels),
                 conv_sum_parts, &j);
}

const layer_ops conv_ops = {
    .output_shape = conv_output_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = conv_scratch_floats,
    .forward = conv_forward,
    .backward = conv_backward,
    .in_place = false,
};
