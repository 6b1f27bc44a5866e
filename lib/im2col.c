#include "im2col.h"

#include <string.h>

/* Maps are often tiny (6x6 in MINI's last stages): rows of a few floats, where calling memcpy or
 * memset per row costs more than the copy. Such maps go through a gather table (one input offset
 * per output position and kernel offset, computed once per call); wider maps copy whole runs,
 * with plain loops for short ones and memcpy for long ones. */
enum { SHORT_RUN = 32 };

/* The output columns ox whose input column ox * stride - pad + j lies inside [0, width). */
static void valid_columns(const conv_geometry *g, int j, int *first, int *last)
{
    int lo = g->pad - j; /* ox * stride >= pad - j */
    int ox0 = lo <= 0 ? 0 : (lo + g->stride - 1) / g->stride;
    int hi = g->width - 1 + g->pad - j; /* ox * stride <= width - 1 + pad - j */
    int ox1 = hi < 0 ? 0 : hi / g->stride + 1;
    if (ox1 > g->out_w)
        ox1 = g->out_w;
    if (ox0 > ox1)
        ox0 = ox1;
    *first = ox0;
    *last = ox1;
}

static inline void zero_run(float *dst, int n)
{
    if (n > SHORT_RUN) {
        memset(dst, 0, sizeof(float) * (size_t)n);
        return;
    }
    for (int i = 0; i < n; i++)
        dst[i] = 0.0f;
}

static inline void copy_run(float *dst, const float *src, int n)
{
    if (n > SHORT_RUN) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
        return;
    }
    for (int i = 0; i < n; i++)
        dst[i] = src[i];
}

bool im2col_wants_gather(const conv_geometry *g)
{
    return g->out_w < IM2COL_GATHER_MAX_WIDTH &&
           (size_t)g->kernel * g->kernel * g->out_h * g->out_w <= IM2COL_GATHER_MAX_ENTRIES;
}

void im2col_gather_table(const conv_geometry *g, int32_t *table)
{
    const int k = g->kernel;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            for (int oy = 0; oy < g->out_h; oy++)
                for (int ox = 0; ox < g->out_w; ox++) {
                    const int iy = oy * g->stride - g->pad + i, ix = ox * g->stride - g->pad + j;
                    const bool inside = iy >= 0 && iy < g->height && ix >= 0 && ix < g->width;
                    *table++ = inside ? iy * g->width + ix : -1;
                }
}

void im2col(const conv_geometry *g, const float *image, float *col, size_t ld, int row_begin,
            int row_end)
{
    const int k = g->kernel;
    if (g->gather) {
        const int positions = g->out_h * g->out_w;
        for (int row = row_begin; row < row_end; row++) {
            const float *plane = image + (size_t)(row / (k * k)) * g->height * g->width;
            const int32_t *from = g->gather + (size_t)(row % (k * k)) * positions;
            float *dst = col + (size_t)row * ld;
            for (int q = 0; q < positions; q++)
                dst[q] = from[q] < 0 ? 0.0f : plane[from[q]];
        }
        return;
    }
    for (int row = row_begin; row < row_end; row++) {
        const int c = row / (k * k), i = (row / k) % k, j = row % k;
        const float *plane = image + (size_t)c * g->height * g->width;
        float *dst = col + (size_t)row * ld;
        int ox0, ox1;
        valid_columns(g, j, &ox0, &ox1);
        for (int oy = 0; oy < g->out_h; oy++, dst += g->out_w) {
            const int iy = oy * g->stride - g->pad + i;
            if (iy < 0 || iy >= g->height) {
                zero_run(dst, g->out_w);
                continue;
            }
            /* Input column of output column ox: x0 + ox * stride, >= 0 from ox0 on. */
            const float *src = plane + (size_t)iy * g->width;
            const int x0 = j - g->pad;
            zero_run(dst, ox0);
            if (g->stride == 1) {
                copy_run(dst + ox0, src + x0 + ox0, ox1 - ox0);
            } else {
                for (int ox = ox0; ox < ox1; ox++)
                    dst[ox] = src[x0 + ox * g->stride];
            }
            zero_run(dst + ox1, g->out_w - ox1);
        }
    }
}

void col2im(const conv_geometry *g, const float *col, size_t ld, float *image)
{
    const int k = g->kernel;
    const int rows = g->channels * k * k;
    if (g->gather) { /* within a row every input position occurs once: no conflicts */
        const int positions = g->out_h * g->out_w;
        for (int row = 0; row < rows; row++) {
            float *plane = image + (size_t)(row / (k * k)) * g->height * g->width;
            const int32_t *to = g->gather + (size_t)(row % (k * k)) * positions;
            const float *src = col + (size_t)row * ld;
            for (int q = 0; q < positions; q++)
                if (to[q] >= 0)
                    plane[to[q]] += src[q];
        }
        return;
    }
    for (int row = 0; row < rows; row++) {
        const int c = row / (k * k), i = (row / k) % k, j = row % k;
        float *plane = image + (size_t)c * g->height * g->width;
        const float *src = col + (size_t)row * ld;
        int ox0, ox1;
        valid_columns(g, j, &ox0, &ox1);
        const int x0 = j - g->pad;
        for (int oy = 0; oy < g->out_h; oy++, src += g->out_w) {
            const int iy = oy * g->stride - g->pad + i;
            if (iy < 0 || iy >= g->height)
                continue;
            float *dst = plane + (size_t)iy * g->width;
            if (g->stride == 1) {
                for (int ox = ox0; ox < ox1; ox++)
                    dst[x0 + ox] += src[ox];
            } else {
                for (int ox = ox0; ox < ox1; ox++)
                    dst[x0 + ox * g->stride] += src[ox];
            }
        }
    }
}
