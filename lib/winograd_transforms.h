/* The transforms of Winograd's F(4x4, 3x3) and F(3x3, 3x3) (Lavin & Gray, 2016) for LANES tiles
 * at once, one tile per lane, so that the small matrix products vectorise over the lanes.
 * Included by winograd.c only: the numbers of the algorithm, apart from the layer that runs it. */
#ifndef ALEXNET_WINOGRAD_TRANSFORMS_H
#define ALEXNET_WINOGRAD_TRANSFORMS_H

#include <stddef.h>

enum {
    XI_MAX = 36, /* positions in the largest transformed tile (6x6): one GEMM each */
    LANES = 16   /* tiles transformed together */
};

/* F(4x4, 3x3): Lavin & Gray's transforms for the interpolation points 0, 1, -1, 2, -2 and infinity,
 * Y = A^T [(G g G^T) * (B^T d B)] A, written out one axis at a time: each function maps n_in rows
 * of LANES floats (`is` floats apart) to n_out rows (`os` apart), one tile per lane. The adjoints
 * (the transposed matrices) carry the gradients back. */
static inline void input_1d(const float *d, size_t is, float *r, size_t os) /* B^T */
{
    for (int l = 0; l < LANES; l++) {
        const float d0 = d[l], d1 = d[is + l], d2 = d[2 * is + l], d3 = d[3 * is + l],
                    d4 = d[4 * is + l], d5 = d[5 * is + l];
        r[l] = 4.0f * d0 - 5.0f * d2 + d4;
        r[os + l] = -4.0f * (d1 + d2) + d3 + d4;
        r[2 * os + l] = 4.0f * (d1 - d2) - d3 + d4;
        r[3 * os + l] = 2.0f * (d3 - d1) - d2 + d4;
        r[4 * os + l] = 2.0f * (d1 - d3) - d2 + d4;
        r[5 * os + l] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

static inline void input_adjoint_1d(const float *v, size_t is, float *e, size_t os) /* B */
{
    for (int l = 0; l < LANES; l++) {
        const float v0 = v[l], v1 = v[is + l], v2 = v[2 * is + l], v3 = v[3 * is + l],
                    v4 = v[4 * is + l], v5 = v[5 * is + l];
        e[l] = 4.0f * v0;
        e[os + l] = 4.0f * (v2 - v1 + v5) + 2.0f * (v4 - v3);
        e[2 * os + l] = -5.0f * v0 - 4.0f * (v1 + v2) - v3 - v4;
        e[3 * os + l] = v1 - v2 + 2.0f * (v3 - v4) - 5.0f * v5;
        e[4 * os + l] = v0 + v1 + v2 + v3 + v4;
        e[5 * os + l] = v5;
    }
}

static inline void output_1d(const float *m, size_t is, float *y, size_t os) /* A^T */
{
    for (int l = 0; l < LANES; l++) {
        const float m0 = m[l], m1 = m[is + l], m2 = m[2 * is + l], m3 = m[3 * is + l],
                    m4 = m[4 * is + l], m5 = m[5 * is + l];
        const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        y[l] = m0 + s12 + s34;
        y[os + l] = d12 + 2.0f * d34;
        y[2 * os + l] = s12 + 4.0f * s34;
        y[3 * os + l] = d12 + 8.0f * d34 + m5;
    }
}

static inline void output_adjoint_1d(const float *dy, size_t is, float *a, size_t os) /* A */
{
    for (int l = 0; l < LANES; l++) {
        const float y0 = dy[l], y1 = dy[is + l], y2 = dy[2 * is + l], y3 = dy[3 * is + l];
        const float even = y0 + y2, odd = y1 + y3, even4 = y0 + 4.0f * y2,
                    odd2 = 2.0f * y1 + 8.0f * y3;
        a[l] = y0;
        a[os + l] = even + odd;
        a[2 * os + l] = even - odd;
        a[3 * os + l] = even4 + odd2;
        a[4 * os + l] = even4 - odd2;
        a[5 * os + l] = y3;
    }
}

static inline void filter_1d(const float *g, size_t is, float *u, size_t os) /* G */
{
    for (int l = 0; l < LANES; l++) {
        const float g0 = g[l], g1 = g[is + l], g2 = g[2 * is + l];
        u[l] = 0.25f * g0;
        u[os + l] = -(g0 + g1 + g2) / 6.0f;
        u[2 * os + l] = -(g0 - g1 + g2) / 6.0f;
        u[3 * os + l] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
        u[4 * os + l] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
        u[5 * os + l] = g2;
    }
}

static inline void filter_adjoint_1d(const float *u, size_t is, float *h, size_t os) /* G^T */
{
    for (int l = 0; l < LANES; l++) {
        const float u0 = u[l], u1 = u[is + l], u2 = u[2 * is + l], u3 = u[3 * is + l],
                    u4 = u[4 * is + l], u5 = u[5 * is + l];
        h[l] = 0.25f * u0 - (u1 + u2) / 6.0f + (u3 + u4) / 24.0f;
        h[os + l] = (u2 - u1) / 6.0f + (u3 - u4) / 12.0f;
        h[2 * os + l] = (u3 + u4 - u1 - u2) / 6.0f + u5;
    }
}

/* F(3x3, 3x3), for the points 0, 1, -1, 2 and infinity: 25 multiplications per 9 outputs. Taken
 * where its tiles fit the output better, as on 6x6 maps (four 5x5 tiles, no output wasted, where
 * F(4x4, 3x3) computes 64 outputs for 36). */
static inline void input3_1d(const float *d, size_t is, float *r, size_t os) /* B^T */
{
    for (int l = 0; l < LANES; l++) {
        const float d0 = d[l], d1 = d[is + l], d2 = d[2 * is + l], d3 = d[3 * is + l],
                    d4 = d[4 * is + l];
        r[l] = 2.0f * (d0 - d2) - d1 + d3;
        r[os + l] = d3 - 2.0f * d1 - d2;
        r[2 * os + l] = 2.0f * d1 - 3.0f * d2 + d3;
        r[3 * os + l] = d3 - d1;
        r[4 * os + l] = 2.0f * (d1 - d3) - d2 + d4;
    }
}

static inline void input3_adjoint_1d(const float *v, size_t is, float *e, size_t os) /* B */
{
    for (int l = 0; l < LANES; l++) {
        const float v0 = v[l], v1 = v[is + l], v2 = v[2 * is + l], v3 = v[3 * is + l],
                    v4 = v[4 * is + l];
        e[l] = 2.0f * v0;
        e[os + l] = 2.0f * (v2 - v1 + v4) - v0 - v3;
        e[2 * os + l] = -2.0f * v0 - v1 - 3.0f * v2 - v4;
        e[3 * os + l] = v0 + v1 + v2 + v3 - 2.0f * v4;
        e[4 * os + l] = v4;
    }
}

static inline void output3_1d(const float *m, size_t is, float *y, size_t os) /* A^T */
{
    for (int l = 0; l < LANES; l++) {
        const float m0 = m[l], m1 = m[is + l], m2 = m[2 * is + l], m3 = m[3 * is + l],
                    m4 = m[4 * is + l];
        y[l] = m0 + m1 + m2 + m3;
        y[os + l] = m1 - m2 + 2.0f * m3;
        y[2 * os + l] = m1 + m2 + 4.0f * m3 + m4;
    }
}

static inline void output3_adjoint_1d(const float *dy, size_t is, float *a, size_t os) /* A */
{
    for (int l = 0; l < LANES; l++) {
        const float y0 = dy[l], y1 = dy[is + l], y2 = dy[2 * is + l];
        a[l] = y0;
        a[os + l] = y0 + y1 + y2;
        a[2 * os + l] = y0 - y1 + y2;
        a[3 * os + l] = y0 + 2.0f * y1 + 4.0f * y2;
        a[4 * os + l] = y2;
    }
}

static inline void filter3_1d(const float *g, size_t is, float *u, size_t os) /* G */
{
    for (int l = 0; l < LANES; l++) {
        const float g0 = g[l], g1 = g[is + l], g2 = g[2 * is + l];
        u[l] = 0.5f * g0;
        u[os + l] = -0.5f * (g0 + g1 + g2);
        u[2 * os + l] = (g1 - g0 - g2) / 6.0f;
        u[3 * os + l] = g0 / 6.0f + g1 / 3.0f + g2 * (2.0f / 3.0f);
        u[4 * os + l] = g2;
    }
}

static inline void filter3_adjoint_1d(const float *u, size_t is, float *h, size_t os) /* G^T */
{
    for (int l = 0; l < LANES; l++) {
        const float u0 = u[l], u1 = u[is + l], u2 = u[2 * is + l], u3 = u[3 * is + l],
                    u4 = u[4 * is + l];
        h[l] = 0.5f * (u0 - u1) + (u3 - u2) / 6.0f;
        h[os + l] = u2 / 6.0f + u3 / 3.0f - 0.5f * u1;
        h[2 * os + l] = u3 * (2.0f / 3.0f) - 0.5f * u1 - u2 / 6.0f + u4;
    }
}

typedef void (*transform_1d)(const float *in, size_t is, float *out, size_t os);

/* out = X in X^T for LANES tiles: `in` is [n_in][n_in][LANES], `out` [n_out][n_out][LANES]. */
static inline __attribute__((always_inline)) void transform(transform_1d along, int n_in, int n_out,
                                                            const float *in, float *out)
{
    float tmp[XI_MAX * LANES]; /* [n_out][n_in][LANES] */
    for (int j = 0; j < n_in; j++)
        along(in + j * LANES, (size_t)n_in * LANES, tmp + j * LANES, (size_t)n_in * LANES);
    for (int r = 0; r < n_out; r++)
        along(tmp + r * n_in * LANES, LANES, out + r * n_out * LANES, LANES);
}

#define INPUT_4 input_1d, 6, 6
#define INPUT_ADJ_4 input_adjoint_1d, 6, 6
#define OUTPUT_4 output_1d, 6, 4
#define OUTPUT_ADJ_4 output_adjoint_1d, 4, 6
#define FILTER_4 filter_1d, 3, 6
#define FILTER_ADJ_4 filter_adjoint_1d, 6, 3
#define INPUT_3 input3_1d, 5, 5
#define INPUT_ADJ_3 input3_adjoint_1d, 5, 5
#define OUTPUT_3 output3_1d, 5, 3
#define OUTPUT_ADJ_3 output3_adjoint_1d, 3, 5
#define FILTER_3 filter3_1d, 3, 5
#define FILTER_ADJ_3 filter3_adjoint_1d, 5, 3

#endif
