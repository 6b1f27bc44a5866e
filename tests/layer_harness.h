/* Runs one layer outside a network, as the network would: buffers sized by the layer's own
 * aux/scratch functions, a chosen number of parallel parts, and a scalar objective
 * J = sum_i r_i * out_i (r fixed and random) whose gradient d J / d out = r is what backward gets,
 * so finite differences of J check every gradient the layer writes. */
#ifndef ALEXNET_LAYER_HARNESS_H
#define ALEXNET_LAYER_HARNESS_H

#include "layer.h"
#include "memory.h"
#include "rng.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct harness {
    layer l;
    shape in, out;
    int batch, parts;
    float *x, *y, *r, *dx, *aux, *scratch;
    size_t in_count, out_count;
    float *w, *b, *dw, *db;
    size_t w_count, b_count;
    bool training;
    uint64_t seed, step;
} harness;

/* Deterministic test data in [lo, hi). */
static inline void fill_uniform(float *a, size_t n, uint64_t stream, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * rng_uniform(1234, stream, i);
}

/* Values with no two closer than `gap` and none within gap/2 of zero (for ReLU and max pooling,
 * whose kinks a finite difference must not straddle). */
static inline void fill_separated(float *a, size_t n, uint64_t stream, float gap)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates with the test generator */
        size_t j = (size_t)rng_below(99, stream, i, i);
        float t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (a[i] - (float)(n / 2) + 0.5f) * gap;
}

static inline void harness_setup(harness *h, shape in, int batch, int parts)
{
    h->in = in;
    h->batch = batch;
    h->parts = parts;
    h->training = true;
    h->seed = 77;
    ck_assert(h->l.ops->output_shape(&h->l, in, &h->out));
    h->in_count = shape_size(in) * (size_t)batch;
    h->out_count = shape_size(h->out) * (size_t)batch;
    h->x = memory_alloc_floats(h->in_count);
    h->dx = memory_alloc_floats(h->in_count);
    h->y = memory_alloc_floats(h->out_count);
    h->r = memory_alloc_floats(h->out_count);
    fill_uniform(h->x, h->in_count, 1, -1.0f, 1.0f);
    fill_uniform(h->r, h->out_count, 2, -1.0f, 1.0f);
    size_t aux = h->l.ops->aux_floats(&h->l, in, h->out) * (size_t)batch;
    h->aux = memory_alloc_floats(aux ? aux : 1);
    /* A training call's scratch covers an inference call's too. */
    h->scratch = memory_alloc_floats(h->l.ops->scratch_floats(&h->l, in, h->out, batch, parts,
                                                              true) + 1);
    h->w_count = layer_weight_floats(&h->l);
    h->b_count = layer_bias_floats(&h->l);
    if (h->w_count) {
        h->w = h->l.weight = memory_alloc_floats(h->w_count);
        h->b = h->l.bias = memory_alloc_floats(h->b_count);
        h->dw = h->l.dweight = memory_alloc_floats(h->w_count);
        h->db = h->l.dbias = memory_alloc_floats(h->b_count);
        fill_uniform(h->w, h->w_count, 3, -0.5f, 0.5f);
        fill_uniform(h->b, h->b_count, 4, -0.5f, 0.5f);
    }
}

static inline void harness_free(harness *h)
{
    memory_free(h->x);
    memory_free(h->dx);
    memory_free(h->y);
    memory_free(h->r);
    memory_free(h->aux);
    memory_free(h->scratch);
    memory_free(h->w);
    memory_free(h->b);
    memory_free(h->dw);
    memory_free(h->db);
}

static inline layer_call harness_call(harness *h)
{
    layer_call call = {
        .batch = h->batch,
        .in_shape = h->in,
        .out_shape = h->out,
        .in = h->x,
        .out = h->y,
        .aux = h->training ? h->aux : NULL,
        .scratch = h->scratch,
        .parts = h->parts,
        .training = h->training,
        .seed = h->seed,
        .step = h->step,
    };
    return call;
}

static inline void harness_forward(harness *h)
{
    layer_call call = harness_call(h);
    h->l.ops->forward(&h->l, &call);
}

static inline double harness_objective(harness *h)
{
    harness_forward(h);
    double j = 0.0;
    for (size_t i = 0; i < h->out_count; i++)
        j += (double)h->r[i] * h->y[i];
    return j;
}

static inline void harness_backward(harness *h)
{
    harness_forward(h);
    layer_call call = harness_call(h);
    call.dout = h->r;
    call.din = h->dx;
    h->l.ops->backward(&h->l, &call);
}

/* Central differences of J at up to `samples` elements of `values` (spread over the array)
 * against the analytic gradient. */
static inline void harness_check_gradient(harness *h, float *values, const float *analytic,
                                          size_t count, const char *what, float eps, int samples)
{
    size_t stride = count > (size_t)samples ? count / (size_t)samples : 1;
    for (size_t k = stride / 2; k < count; k += stride) {
        float saved = values[k];
        values[k] = saved + eps;
        double plus = harness_objective(h);
        values[k] = saved - eps;
        double minus = harness_objective(h);
        values[k] = saved;
        double numeric = (plus - minus) / (2.0 * eps);
        double a = analytic[k];
        double tolerance = 1e-2 * fmax(fabs(numeric), fabs(a)) + 2e-3;
        ck_assert_msg(fabs(numeric - a) <= tolerance,
                      "%s[%zu] (%s): analytic %.6f, finite difference %.6f", what, k, h->l.name, a,
                      numeric);
    }
}

/* Checks d J / d input and, for layers with parameters, d J / d weight and d J / d bias. */
static inline void harness_check_all(harness *h, float eps)
{
    harness_backward(h);
    float *dx = memory_alloc_floats(h->in_count);
    memcpy(dx, h->dx, sizeof(float) * h->in_count);
    float *dw = NULL, *db = NULL;
    if (h->w_count) {
        dw = memory_alloc_floats(h->w_count);
        db = memory_alloc_floats(h->b_count);
        memcpy(dw, h->dw, sizeof(float) * h->w_count);
        memcpy(db, h->db, sizeof(float) * h->b_count);
    }
    harness_check_gradient(h, h->x, dx, h->in_count, "input", eps, 60);
    if (h->w_count) {
        harness_check_gradient(h, h->w, dw, h->w_count, "weight", eps, 60);
        harness_check_gradient(h, h->b, db, h->b_count, "bias", eps, 20);
    }
    memory_free(dx);
    memory_free(dw);
    memory_free(db);
}

static inline void make_conv(harness *h, int in_c, int out_c, int k, int stride, int pad, int groups)
{
    memset(h, 0, sizeof *h);
    h->l.ops = &conv_ops;
    strcpy(h->l.name, "conv");
    h->l.conv.in_channels = in_c;
    h->l.conv.out_channels = out_c;
    h->l.conv.kernel = k;
    h->l.conv.stride = stride;
    h->l.conv.pad = pad;
    h->l.conv.groups = groups;
}

/* Direct convolution of the harness's input, weights and bias, in double. */
static inline void conv_reference(const harness *h, double *out)
{
    const layer *l = &h->l;
    const int G = l->conv.groups, Cg = h->in.c / G, Mg = h->out.c / G, k = l->conv.kernel;
    for (int n = 0; n < h->batch; n++)
        for (int m = 0; m < h->out.c; m++)
            for (int oy = 0; oy < h->out.h; oy++)
                for (int ox = 0; ox < h->out.w; ox++) {
                    double sum = h->b[m];
                    int g = m / Mg;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = oy * l->conv.stride - l->conv.pad + i;
                                int ix = ox * l->conv.stride - l->conv.pad + j;
                                if (iy < 0 || iy >= h->in.h || ix < 0 || ix >= h->in.w)
                                    continue;
                                sum += (double)h->w[((m * Cg + c) * k + i) * k + j] *
                                       h->x[((size_t)(n * h->in.c + g * Cg + c) * h->in.h + iy) *
                                                h->in.w +
                                            ix];
                            }
                    out[((size_t)(n * h->out.c + m) * h->out.h + oy) * h->out.w + ox] = sum;
                }
}

#endif
