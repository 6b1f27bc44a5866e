#include "im2col.h"

#include <string.h>

static int padded_width(const conv_geometry *g)
{
    return g->width + 2 * g->pad;
}

static size_t padded_plane(const conv_geometry *g)
{
    return (size_t)(g->height + 2 * g->pad) * (size_t)padded_width(g);
}

size_t im2col_padded_floats(const conv_geometry *g)
{
    return (size_t)g->channels * padded_plane(g);
}

void im2col_pad(const conv_geometry *g, const float *image, float *padded)
{
    const int p = g->pad, pw = padded_width(g);
    for (int c = 0; c < g->channels; c++) {
        const float *src = image + (size_t)c * g->height * g->width;
        float *dst = padded + (size_t)c * padded_plane(g);
        memset(dst, 0, sizeof(float) * (size_t)p * pw);
        dst += (size_t)p * pw;
        for (int y = 0; y < g->height; y++, dst += pw, src += g->width) {
            for (int x = 0; x < p; x++)
                dst[x] = dst[p + g->width + x] = 0.0f;
            memcpy(dst + p, src, sizeof(float) * (size_t)g->width);
        }
        memset(dst, 0, sizeof(float) * (size_t)p * pw);
    }
}

/* The row's first input element for kernel offset (i, j) of channel c, in a padded image. */
static size_t row_origin(const conv_geometry *g, int row)
{
    const int k = g->kernel, c = row / (k * k), i = (row / k) % k, j = row % k;
    return (size_t)c * padded_plane(g) + (size_t)i * padded_width(g) + (size_t)j;
}

/* At stride s > 1 the rows of kernel offsets (c, i, 0..k-1) read the same input rows, every s-th
 * element from offset j. Splitting each input row once into its s phases (elements q, q + s,
 * q + 2s, ...) turns each of those k strided gathers into a contiguous copy from phase j % s at
 * j / s: the paper's conv1 (11x11 at stride 4) reads each input row once instead of 11 times. */
enum { PHASE_FLOATS = 4096 };

static void im2col_strided(const conv_geometry *g, const float *padded, float *col, size_t ld,
                           int row_begin, int row_end)
{
    const int s = g->stride, k = g->kernel, ow = g->out_w;
    const int per_phase = ow + (k - 1) / s; /* elements of a phase that a row reads */
    float phases[PHASE_FLOATS];
    const size_t step = (size_t)s * padded_width(g);
    for (int row = row_begin; row < row_end;) {
        const int ci = row / k, j0 = row % k; /* channel and kernel row c * k + i; first column */
        const int j1 = row_end - row < k - j0 ? j0 + (row_end - row) : k;
        const float *src = padded + row_origin(g, ci * k);
        for (int oy = 0; oy < g->out_h; oy++, src += step) {
            for (int q = 0; q < s && q < k; q++)
                for (int t = 0; t < per_phase && q + t * s < k + (ow - 1) * s; t++)
                    phases[q * per_phase + t] = src[q + t * s];
            for (int j = j0; j < j1; j++)
                memcpy(col + (size_t)(ci * k + j) * ld + (size_t)oy * ow,
                       phases + (j % s) * per_phase + j / s, sizeof(float) * (size_t)ow);
        }
        row += j1 - j0;
    }
}

void im2col(const conv_geometry *g, const float *padded, float *col, size_t ld, int row_begin,
            int row_end)
{
    const int s = g->stride, ow = g->out_w;
    if (s > 1 && (size_t)s * (size_t)(ow + g->kernel) <= PHASE_FLOATS) {
        im2col_strided(g, padded, col, ld, row_begin, row_end);
        return;
    }
    const size_t step = (size_t)s * padded_width(g);
    for (int row = row_begin; row < row_end; row++) {
        const float *src = padded + row_origin(g, row);
        float *dst = col + (size_t)row * ld;
        for (int oy = 0; oy < g->out_h; oy++, src += step, dst += ow) {
            if (s == 1) {
                for (int ox = 0; ox < ow; ox++)
                    dst[ox] = src[ox];
            } else {
                for (int ox = 0; ox < ow; ox++)
                    dst[ox] = src[ox * s];
            }
        }
    }
}

void col2im(const conv_geometry *g, const float *col, size_t ld, float *padded, float *image)
{
    const int s = g->stride, ow = g->out_w, p = g->pad;
    const size_t step = (size_t)s * padded_width(g);
    float *sum = p ? padded : image;
    memset(sum, 0, sizeof(float) * im2col_padded_floats(g));
    const int rows = g->channels * g->kernel * g->kernel;
    for (int row = 0; row < rows; row++) {
        float *dst = sum + row_origin(g, row);
        const float *src = col + (size_t)row * ld;
        for (int oy = 0; oy < g->out_h; oy++, dst += step, src += ow) {
            if (s == 1) {
                for (int ox = 0; ox < ow; ox++)
                    dst[ox] += src[ox];
            } else {
                for (int ox = 0; ox < ow; ox++)
                    dst[ox * s] += src[ox];
            }
        }
    }
    if (p == 0)
        return;
    const int pw = padded_width(g);
    for (int c = 0; c < g->channels; c++) {
        const float *from = padded + (size_t)c * padded_plane(g) + (size_t)p * pw + p;
        float *to = image + (size_t)c * g->height * g->width;
        for (int y = 0; y < g->height; y++, from += pw, to += g->width)
            memcpy(to, from, sizeof(float) * (size_t)g->width);
    }
}
