/* Local response normalisation across channels, PyTorch/Caffe convention:
 *     s_c = k + (alpha / n) * sum over c' in [c - n/2, c + (n-1)/2] of a_c'^2,   b_c = a_c *
 * s_c^-beta Backward: da_c = g_c * s_c^-beta - (2 alpha beta / n) * a_c * sum over c' whose window
 * holds c of g_c' * b_c' / s_c' Work is split over image rows (n, y); forward keeps s for backward.
 */
#include "layer.h"
#include "parallel.h"

#include <math.h>

static inline float pow_neg_beta(float s, float beta)
{
    if (beta == 0.75f) /* the paper's value: two square roots beat powf */
        return 1.0f / (sqrtf(s) * sqrtf(sqrtf(s)));
    return powf(s, -beta);
}

static size_t lrn_aux_floats(const layer *l, shape in, shape out)
{
    (void)l, (void)out;
    return shape_size(in);
}

static size_t lrn_scratch_floats(const layer *l, shape in, shape out, int batch, int parts)
{
    (void)l, (void)out, (void)batch, (void)parts;
    return (size_t)in.c * (size_t)in.w;
}

typedef struct lrn_job {
    const layer *l;
    const layer_call *call;
} lrn_job;

static void lrn_forward_rows(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const lrn_job *j = ctx;
    const int n = j->l->lrn.size, C = j->call->in_shape.c, H = j->call->in_shape.h,
              W = j->call->in_shape.w;
    const float k = j->l->lrn.k, alpha_n = j->l->lrn.alpha / (float)n, beta = j->l->lrn.beta;
    const size_t plane = (size_t)H * W;
    for (int64_t item = begin; item < end; item++) {
        const size_t base = (size_t)(item / H) * C * plane + (size_t)(item % H) * W;
        const float *a = j->call->in + base;
        float *b = j->call->out + base;
        float *scale = j->call->aux ? j->call->aux + base : NULL;
        for (int c = 0; c < C; c++) {
            int lo = c - n / 2, hi = c + (n - 1) / 2;
            lo = lo < 0 ? 0 : lo;
            hi = hi > C - 1 ? C - 1 : hi;
            for (int x = 0; x < W; x++) {
                float sum = 0.0f;
                for (int cc = lo; cc <= hi; cc++) {
                    float v = a[(size_t)cc * plane + x];
                    sum += v * v;
                }
                float s = k + alpha_n * sum;
                b[(size_t)c * plane + x] = a[(size_t)c * plane + x] * pow_neg_beta(s, beta);
                if (scale)
                    scale[(size_t)c * plane + x] = s;
            }
        }
    }
}

static void lrn_backward_rows(void *ctx, int64_t begin, int64_t end, int part)
{
    const lrn_job *j = ctx;
    const layer_call *call = j->call;
    const int n = j->l->lrn.size, C = call->in_shape.c, H = call->in_shape.h, W = call->in_shape.w;
    const float beta = j->l->lrn.beta;
    const float coefficient = 2.0f * j->l->lrn.alpha * beta / (float)n;
    const size_t plane = (size_t)H * W;
    float *t = call->scratch + (size_t)part * call->scratch_per_part; /* [C, W] */
    for (int64_t item = begin; item < end; item++) {
        const size_t base = (size_t)(item / H) * C * plane + (size_t)(item % H) * W;
        const float *a = call->in + base, *b = call->out + base, *g = call->dout + base;
        const float *scale = call->aux + base;
        float *da = call->din + base;
        for (int c = 0; c < C; c++)
            for (int x = 0; x < W; x++) {
                size_t i = (size_t)c * plane + x;
                t[(size_t)c * W + x] = g[i] * b[i] / scale[i];
            }
        for (int c = 0; c < C; c++) {
            /* c lies in the window of c' for c' in [c - (n-1)/2, c + n/2]. */
            int lo = c - (n - 1) / 2, hi = c + n / 2;
            lo = lo < 0 ? 0 : lo;
            hi = hi > C - 1 ? C - 1 : hi;
            for (int x = 0; x < W; x++) {
                float sum = 0.0f;
                for (int cc = lo; cc <= hi; cc++)
                    sum += t[(size_t)cc * W + x];
                size_t i = (size_t)c * plane + x;
                da[i] = g[i] * pow_neg_beta(scale[i], beta) - coefficient * a[i] * sum;
            }
        }
    }
}

static void lrn_forward(const layer *l, const layer_call *call)
{
    lrn_job j = {l, call};
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.h, lrn_forward_rows, &j);
}

static void lrn_backward(const layer *l, const layer_call *call)
{
    if (call->din == NULL)
        return;
    lrn_job j = {l, call};
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.h, lrn_backward_rows, &j);
}

const layer_ops lrn_ops = {
    .kind = "lrn",
    .output_shape = layer_same_shape,
    .aux_floats = lrn_aux_floats,
    .scratch_floats = lrn_scratch_floats,
    .forward = lrn_forward,
    .backward = lrn_backward,
    .in_place = false,
};
