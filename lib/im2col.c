#include "im2col.h"

#include <string.h>

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

void im2col(const conv_geometry *g, const float *image, float *col, size_t ld, int row_begin,
            int row_end)
{
    const int k = g->kernel;
    for (int row = row_begin; row < row_end; row++) {
        const int c = row / (k * k), i = (row / k) % k, j = row % k;
        const float *plane = image + (size_t)c * g->height * g->width;
        float *dst = col + (size_t)row * ld;
        int ox0, ox1;
        valid_columns(g, j, &ox0, &ox1);
        for (int oy = 0; oy < g->out_h; oy++, dst += g->out_w) {
            const int iy = oy * g->stride - g->pad + i;
            if (iy < 0 || iy >= g->height) {
                memset(dst, 0, sizeof(float) * (size_t)g->out_w);
                continue;
            }
            /* Input column of output column ox: x0 + ox * stride, >= 0 from ox0 on. */
            const float *src = plane + (size_t)iy * g->width;
            const int x0 = j - g->pad;
            for (int ox = 0; ox < ox0; ox++)
                dst[ox] = 0.0f;
            if (g->stride == 1) {
                if (ox1 > ox0)
                    memcpy(dst + ox0, src + x0 + ox0, sizeof(float) * (size_t)(ox1 - ox0));
            } else {
                for (int ox = ox0; ox < ox1; ox++)
                    dst[ox] = src[x0 + ox * g->stride];
            }
            for (int ox = ox1; ox < g->out_w; ox++)
                dst[ox] = 0.0f;
        }
    }
}

void col2im(const conv_geometry *g, const float *col, size_t ld, float *image)
{
    const int k = g->kernel;
    const int rows = g->channels * k * k;
    for (int row = 0; row < rows; row++) {
        const int c = row / (k * k), i = (row / k) % k, j = row % k;
        float *plane = image + (size_t)c * g->height * g->width;
        const float *src = col + (size_t)row * ld;
        int ox0, ox1;
        valid_columns(g, j, &ox0, &ox1);
        for (int oy = 0; oy < g->out_h; oy++, src += g->out_w) {
            const int iy = oy * g->stride - g->pad + i;
            if (iy < 0 || iy >= g->height)
                continue;
            float *dst = plane + (size_t)iy * g->width;
            const int x0 = j - g->pad;
            for (int ox = ox0; ox < ox1; ox++)
                dst[x0 + ox * g->stride] += src[ox];
        }
    }
}
