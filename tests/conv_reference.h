/* Convolution layers against a direct convolution in double: their output and all three
 * gradients, with an error bound relative to the sum of the magnitudes of each result's terms (what
 * floating-point error is proportional to), also with magnitudes spread over many orders between
 * channels. Used by the suites of the algorithms conv.c chooses between. */
#ifndef ALEXNET_CONV_REFERENCE_H
#define ALEXNET_CONV_REFERENCE_H

#include "layer_harness.h"

#include <float.h>

typedef struct conv_case {
    int in_c, out_c, kernel, stride, pad, groups, h, w, batch, parts;
} conv_case;

/* A value of magnitude 10^[-decades, decades) with a random sign. */
static inline float wide(uint64_t stream, uint64_t i, double decades)
{
    double e = decades * (2.0 * rng_uniform(2024, stream, 2 * i) - 1.0);
    double sign = rng_uniform(2024, stream, 2 * i + 1) < 0.5 ? -1.0 : 1.0;
    return (float)(sign * pow(10.0, e));
}

/* The gradients of J = sum r * out by direct convolution, in double, with the sums of the
 * magnitudes of their terms. */
static inline void reference_backward(const harness *h, double *dx, double *dx_terms, double *dw,
                                      double *dw_terms)
{
    const layer *l = &h->l;
    const int G = l->conv.groups, Cg = h->in.c / G, Mg = h->out.c / G, p = l->conv.pad,
              k = l->conv.kernel, s = l->conv.stride;
    memset(dx, 0, sizeof(double) * h->in_count);
    memset(dx_terms, 0, sizeof(double) * h->in_count);
    memset(dw, 0, sizeof(double) * h->w_count);
    memset(dw_terms, 0, sizeof(double) * h->w_count);
    for (int n = 0; n < h->batch; n++)
        for (int m = 0; m < h->out.c; m++)
            for (int oy = 0; oy < h->out.h; oy++)
                for (int ox = 0; ox < h->out.w; ox++) {
                    const double r =
                        h->r[((size_t)(n * h->out.c + m) * h->out.h + oy) * h->out.w + ox];
                    const int g = m / Mg;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                const int iy = oy * s - p + i, ix = ox * s - p + j;
                                if (iy < 0 || iy >= h->in.h || ix < 0 || ix >= h->in.w)
                                    continue;
                                const size_t xi =
                                    ((size_t)(n * h->in.c + g * Cg + c) * h->in.h + iy) * h->in.w +
                                    ix;
                                const size_t wi = (size_t)((m * Cg + c) * k + i) * k + j;
                                dx[xi] += r * h->w[wi];
                                dx_terms[xi] += fabs(r * h->w[wi]);
                                dw[wi] += r * h->x[xi];
                                dw_terms[wi] += fabs(r * h->x[xi]);
                            }
                }
}

/* The sum of the magnitudes of each output's terms: the convolution of |x| with |w|, plus |b|. */
static inline void output_terms(const harness *h, double *terms)
{
    harness abs_h = *h;
    float *ax = malloc(sizeof(float) * h->in_count), *aw = malloc(sizeof(float) * h->w_count),
          *ab = malloc(sizeof(float) * h->b_count);
    for (size_t i = 0; i < h->in_count; i++)
        ax[i] = fabsf(h->x[i]);
    for (size_t i = 0; i < h->w_count; i++)
        aw[i] = fabsf(h->w[i]);
    for (size_t i = 0; i < h->b_count; i++)
        ab[i] = fabsf(h->b[i]);
    abs_h.x = ax;
    abs_h.w = aw;
    abs_h.b = ab;
    conv_reference(&abs_h, terms);
    free(ax), free(aw), free(ab);
}

/* |got - want| within `bound` times the sum of |terms| (plus a floor for outputs whose terms all
 * vanish). */
static inline void assert_within_terms(const float *got, const double *want, const double *terms,
                                       size_t n, double bound, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= bound * terms[i] + 1e-30,
                      "%s[%zu]: %.9g, expected %.9g (terms %.3g)", what, i, got[i], want[i],
                      terms[i]);
}

/* Forward and every gradient against the double reference, for the harness's uniform data or
 * (decades > 0) with every input channel, filter and output-gradient channel at its own scale,
 * 10^[-decades, decades): the spread of magnitudes between channels that a trained network's
 * layers have. `takes_the_path` says whether conv.c runs the algorithm under test for it; the
 * bound is in units of FLT_EPSILON. */
static inline void check_conv_case(const conv_case *c, double decades,
                                   bool (*takes_the_path)(const layer *l, shape in),
                                   double bound_epsilons)
{
    harness h;
    make_conv(&h, c->in_c, c->out_c, c->kernel, c->stride, c->pad, c->groups);
    ck_assert(takes_the_path(&h.l, (shape){c->in_c, c->h, c->w}));
    harness_setup(&h, (shape){c->in_c, c->h, c->w}, c->batch, c->parts);
    if (decades > 0) { /* each channel (and filter) at its own scale */
        const size_t in_plane = (size_t)h.in.h * h.in.w, out_plane = (size_t)h.out.h * h.out.w;
        for (size_t i = 0; i < h.in_count; i++)
            h.x[i] *= fabsf(wide(1, i / in_plane % (size_t)h.in.c, decades));
        for (size_t i = 0; i < h.w_count; i++)
            h.w[i] *= fabsf(wide(2, i / (size_t)(c->kernel * c->kernel), decades));
        for (size_t i = 0; i < h.out_count; i++)
            h.r[i] *= fabsf(wide(3, i / out_plane % (size_t)h.out.c, decades));
    }
    harness_backward(&h);

    double *y = malloc(sizeof(double) * h.out_count),
           *y_terms = malloc(sizeof(double) * h.out_count);
    conv_reference(&h, y);
    output_terms(&h, y_terms);
    const double bound = bound_epsilons * FLT_EPSILON;
    assert_within_terms(h.y, y, y_terms, h.out_count, bound, "output");

    double *dx = malloc(sizeof(double) * h.in_count),
           *dx_terms = malloc(sizeof(double) * h.in_count);
    double *dw = malloc(sizeof(double) * h.w_count), *dw_terms = malloc(sizeof(double) * h.w_count);
    reference_backward(&h, dx, dx_terms, dw, dw_terms);
    assert_within_terms(h.dx, dx, dx_terms, h.in_count, bound, "input gradient");
    assert_within_terms(h.dw, dw, dw_terms, h.w_count, bound, "weight gradient");
    const size_t plane = (size_t)h.out.h * h.out.w;
    for (int m = 0; m < h.out.c; m++) {
        double db = 0.0, terms = 0.0;
        for (int n = 0; n < h.batch; n++)
            for (size_t q = 0; q < plane; q++) {
                db += h.r[((size_t)n * h.out.c + m) * plane + q];
                terms += fabs(h.r[((size_t)n * h.out.c + m) * plane + q]);
            }
        ck_assert_msg(fabs(h.db[m] - db) <= 1e-5 * terms, "bias gradient[%d]: %g, expected %g", m,
                      h.db[m], db);
    }
    free(y), free(y_terms);
    free(dx), free(dx_terms), free(dw), free(dw_terms);
    harness_free(&h);
}

#endif
