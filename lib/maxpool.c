/* Overlapping max pooling (the paper's 3x3 windows at stride 2), no padding. The output size
 * rounds down, as PyTorch's MaxPool2d, or with `ceil` up, as Caffe (and ceil_mode): the last
 * window then hangs over the border and takes the maximum of what it covers. Ties go to the first
 * maximum in row-major order and a NaN wins, exactly as PyTorch chooses, so gradients are routed
 * to the same element. Forward keeps the winning input position of every output for backward.
 * Work is split over (image, channel) planes. */
#include "layer.h"
#include "parallel.h"

#include <math.h>
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
    return shape_size(out); /* one int32 position per output */
}

typedef struct pool_job {
    const layer *l;
    const layer_call *call;
} pool_job;

/* One output row: the window's first element, then each further offset (i, j) in row-major order
 * replaces it where it is greater or NaN. The loops run along the output row without branches, so
 * they vectorize; an element-by-element scan mispredicts on every other comparison. A window that
 * hangs over the border (ceil rounding) skips the offsets past it: rows past H entirely, and
 * column offset j in the outputs whose column ox * s + j is past W. */
static void maxpool_row(const float *in, int H, int W, int k, int s, int oy, int OW, float *out,
                        int32_t *arg)
{
    const int first = oy * s * W;
    const int rows = H - oy * s < k ? H - oy * s : k;
    for (int ox = 0; ox < OW; ox++)
        out[ox] = in[first + ox * s];
    if (arg)
        for (int ox = 0; ox < OW; ox++)
            arg[ox] = first + ox * s;
    for (int i = 0; i < rows; i++)
        for (int j = i == 0 ? 1 : 0; j < k; j++) {
            const int at = (oy * s + i) * W + j;
            const float *row = in + at;
            const int inside = (W - 1 - j) / s + 1; /* outputs whose column ox * s + j < W */
            const int n = inside < OW ? inside : OW;
            if (arg) {
                for (int ox = 0; ox < n; ox++) {
                    const float v = row[ox * s];
                    const bool take = v > out[ox] || isnan(v);
                    out[ox] = take ? v : out[ox];
                    arg[ox] = take ? at + ox * s : arg[ox];
                }
            } else {
                for (int ox = 0; ox < n; ox++) {
                    const float v = row[ox * s];
                    out[ox] = v > out[ox] || isnan(v) ? v : out[ox];
                }
            }
        }
}

static void maxpool_forward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const int k = j->l->pool.kernel, s = j->l->pool.stride;
    const int H = call->in_shape.h, W = call->in_shape.w;
    const int OH = call->out_shape.h, OW = call->out_shape.w;
    for (int64_t p = begin; p < end; p++) {
        const float *in = call->in + (size_t)p * H * W;
        float *out = call->out + (size_t)p * OH * OW;
        int32_t *arg = call->aux ? (int32_t *)call->aux + (size_t)p * OH * OW : NULL;
        for (int oy = 0; oy < OH; oy++)
            maxpool_row(in, H, W, k, s, oy, OW, out + oy * OW, arg ? arg + oy * OW : NULL);
    }
}

static void maxpool_backward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const pool_job *j = ctx;
    const layer_call *call = j->call;
    const size_t in_plane = (size_t)call->in_shape.h * call->in_shape.w;
    const size_t out_plane = (size_t)call->out_shape.h * call->out_shape.w;
    for (int64_t p = begin; p < end; p++) {
        float *din = call->din + (size_t)p * in_plane;
        const float *dout = call->dout + (size_t)p * out_plane;
        const int32_t *arg = (const int32_t *)call->aux + (size_t)p * out_plane;
        memset(din, 0, sizeof(float) * in_plane);
        for (size_t o = 0; o < out_plane; o++)
            din[arg[o]] += dout[o];
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
