/* The phases of a Winograd layer's input and filters (see winograd_plan.h): copies in, sums back.
 */
#include "winograd_plan.h"

#include <stddef.h>
#include <string.h>

/* Along one axis (input `size`, output `out`), the rows of phase a taken from the input: phase
 * rows [y0, y0 + count) are input rows first, first + s, ... Rows outside the input stay zero, and
 * so do rows past what the phase's taps reach (at most out + 2 rows) and past the last window
 * (reached only by the zeros the phases' filters are padded with). */
typedef struct phase_span {
    int y0, first, count;
} phase_span;

static phase_span phase_span_of(const wino_dims *d, int a, int size, int out)
{
    const int s = d->s, start = a * d->step - d->pad; /* the input row of phase row 0 */
    int end = s * (out + 1) + a * d->step - d->pad;   /* of phase row out + 1 */
    const int last = s * (out - 1) + d->kernel - 1 - d->pad;
    end = end < last ? end : last;
    end = end < size - 1 ? end : size - 1;
    phase_span p;
    p.y0 = start < 0 ? (-start + s - 1) / s : 0;
    p.first = start + s * p.y0;
    p.count = p.first > end ? 0 : (end - p.first) / s + 1;
    return p;
}

void winograd_pad_chunk(const wino_dims *d, const float *images, int count, float *padded)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    const int s = d->s, A = d->A;
    memset(padded, 0, sizeof(float) * (size_t)count * d->C * plane);
    for (int a = 0; a < A; a++) {
        const phase_span py = phase_span_of(d, a, d->H, d->out_h);
        for (int b = 0; b < A; b++) {
            const phase_span px = phase_span_of(d, b, d->W, d->out_w);
            for (size_t c = 0; c < (size_t)count * d->in_c; c++) { /* (image, channel) */
                float *phase = padded + ((c * A + a) * A + b) * plane;
                for (int y = 0; y < py.count; y++) {
                    const float *row = images + (c * d->H + py.first + s * y) * d->W + px.first;
                    float *to = phase + (size_t)(py.y0 + y) * d->Wp + px.y0;
                    if (s == 1)
                        memcpy(to, row, sizeof(float) * px.count);
                    else
                        for (int x = 0; x < px.count; x++)
                            to[x] = row[s * x];
                }
            }
        }
    }
}

void winograd_unpad_chunk(const wino_dims *d, const float *padded, int count, float *din)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    const int s = d->s, A = d->A;
    memset(din, 0, sizeof(float) * (size_t)count * d->in_c * d->H * d->W);
    for (int a = 0; a < A; a++) {
        const phase_span py = phase_span_of(d, a, d->H, d->out_h);
        for (int b = 0; b < A; b++) {
            const phase_span px = phase_span_of(d, b, d->W, d->out_w);
            for (size_t c = 0; c < (size_t)count * d->in_c; c++) {
                const float *phase = padded + ((c * A + a) * A + b) * plane;
                for (int y = 0; y < py.count; y++) {
                    float *row = din + (c * d->H + py.first + s * y) * d->W + px.first;
                    const float *from = phase + (size_t)(py.y0 + y) * d->Wp + px.y0;
                    for (int x = 0; x < px.count; x++)
                        row[s * x] += from[x];
                }
            }
        }
    }
}

/* The layer's tap behind tap (i, j) of phase filter f = ((out channel, in channel) c, a, b):
 * w[c][s i + a m][s j + b m], or -1 past k (a zero). Every tap of w is one phase's (i, j). */
static ptrdiff_t phase_tap(const wino_dims *d, int f, int i, int j)
{
    const int A = d->A, k = d->kernel, b = f % A, a = f / A % A, c = f / (A * A);
    const int ky = d->s * i + a * d->step, kx = d->s * j + b * d->step;
    return ky < k && kx < k ? ((ptrdiff_t)c * k + ky) * k + kx : -1;
}

void winograd_phase_filters(const wino_dims *d, const float *weight, float *w3)
{
    for (int f = 0; f < d->K * d->Cg; f++)
        for (int t = 0; t < 9; t++) {
            const ptrdiff_t at = phase_tap(d, f, t / 3, t % 3);
            w3[(size_t)f * 9 + t] = at >= 0 ? weight[at] : 0.0f;
        }
}

void winograd_phase_filters_adjoint(const wino_dims *d, const float *dw3, float *dweight)
{
    for (int f = 0; f < d->K * d->Cg; f++)
        for (int t = 0; t < 9; t++) {
            const ptrdiff_t at = phase_tap(d, f, t / 3, t % 3);
            if (at >= 0)
                dweight[at] = dw3[(size_t)f * 9 + t];
        }
}
