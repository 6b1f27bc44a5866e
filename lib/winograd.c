/* Winograd F(4x4, 3x3) convolution (see winograd.h).
 *
 * Tiles are numbered across a chunk of images (p = image * tiles + tile row * tiles across + tile
 * column), and every transform works on LANES tiles at once, one lane per tile, so that the
 * small matrix products vectorise over the lanes. Transformed data is laid out for the GEMMs:
 *   U [36][K][C / groups]   the filters (shared by all parts, made once per call),
 *   V [36][C][P]            a chunk's input tiles,
 *   M [36][K][P]            their products, turned into the output by the output transform.
 * Each part takes a range of images, as conv.c's image path does; backward sums the parts' filter
 * gradients in part order. Input tiles are read from a copy of the chunk with its zero border
 * (and enough zeros right and below for the last, partial tile), so no read is bounds-checked. */
#include "winograd.h"

#include "memory.h"
#include "parallel.h"
#include "simd.h"

#include <cblas.h>
#include <string.h>

enum {
    T = 6,                  /* input tile side */
    OUT = 4,                /* output tile side */
    XI = T * T,             /* positions in a transformed tile: one GEMM each */
    LANES = 16,             /* tiles transformed together */
    TARGET_TILES = 96,      /* tiles (GEMM columns) per chunk: V and M stay in the caches */
    MIN_GROUP_CHANNELS = 16 /* fewer input channels per group: im2col + GEMM is faster */
};

/* Lavin & Gray's transforms for the interpolation points 0, 1, -1, 2, -2 and infinity,
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

typedef void (*transform_1d)(const float *in, size_t is, float *out, size_t os);

/* out = X in X^T for LANES tiles: `in` is [n_in][n_in][LANES], `out` [n_out][n_out][LANES]. */
static inline __attribute__((always_inline)) void transform(transform_1d along, int n_in, int n_out,
                                                            const float *in, float *out)
{
    float tmp[T * T * LANES]; /* [n_out][n_in][LANES] */
    for (int j = 0; j < n_in; j++)
        along(in + j * LANES, (size_t)n_in * LANES, tmp + j * LANES, (size_t)n_in * LANES);
    for (int r = 0; r < n_out; r++)
        along(tmp + r * n_in * LANES, LANES, out + r * n_out * LANES, LANES);
}

#define INPUT input_1d, T, T
#define INPUT_ADJ input_adjoint_1d, T, T
#define OUTPUT output_1d, T, OUT
#define OUTPUT_ADJ output_adjoint_1d, OUT, T
#define FILTER filter_1d, 3, T
#define FILTER_ADJ filter_adjoint_1d, T, 3

bool winograd_applies(const layer *l)
{
    return l->conv.kernel == 3 && l->conv.stride == 1 &&
           l->conv.in_channels / l->conv.groups >= MIN_GROUP_CHANNELS;
}

typedef struct wino_dims {
    int C, K, groups, Cg, Kg;
    int H, W, pad, out_h, out_w;
    int tiles_y, tiles_x, tiles;                 /* per image */
    int Hp, Wp;                                  /* the padded copy of an image */
    int chunk;                                   /* images per chunk */
    size_t P;                                    /* tiles of a full chunk */
    size_t u, padded, v, m, du, dbias, per_part; /* floats of each scratch area, rounded */
} wino_dims;

static wino_dims wino_dims_of(const layer *l, shape in, shape out, int batch, int parts,
                              bool training)
{
    wino_dims d;
    d.C = l->conv.in_channels;
    d.K = l->conv.out_channels;
    d.groups = l->conv.groups;
    d.Cg = d.C / d.groups;
    d.Kg = d.K / d.groups;
    d.H = in.h;
    d.W = in.w;
    d.pad = l->conv.pad;
    d.out_h = out.h;
    d.out_w = out.w;
    d.tiles_y = (out.h + OUT - 1) / OUT;
    d.tiles_x = (out.w + OUT - 1) / OUT;
    d.tiles = d.tiles_y * d.tiles_x;
    d.Hp = d.tiles_y * OUT + T - OUT;
    d.Wp = d.tiles_x * OUT + T - OUT;
    const int per_part = (batch + parts - 1) / parts;
    d.chunk = (TARGET_TILES + d.tiles - 1) / d.tiles;
    if (d.chunk > per_part)
        d.chunk = per_part;
    if (d.chunk < 1)
        d.chunk = 1;
    d.P = (size_t)d.chunk * d.tiles;
    d.u = memory_round_floats((size_t)XI * d.K * d.Cg);
    d.padded = memory_round_floats((size_t)d.chunk * d.C * d.Hp * d.Wp);
    d.v = memory_round_floats((size_t)XI * d.C * d.P);
    d.m = memory_round_floats((size_t)XI * d.K * d.P);
    d.du = training ? d.u : 0;
    d.dbias = training ? memory_round_floats((size_t)d.K) : 0;
    d.per_part = d.padded + d.v + d.m + d.du + d.dbias;
    return d;
}

size_t winograd_scratch_floats(const layer *l, shape in, shape out, int batch, int parts,
                               bool training)
{
    wino_dims d = wino_dims_of(l, in, out, batch, parts, training);
    return d.u + (size_t)parts * d.per_part;
}

typedef struct wino_part {
    float *padded, *v, *m, *du, *dbias;
} wino_part;

typedef struct wino_job {
    const layer *l;
    const layer_call *call;
    wino_dims d;
    float *u;
    int active; /* backward: parts that had images, and their gradients */
    const float *part_du[PARALLEL_MAX_PARTS];
    const float *part_dbias[PARALLEL_MAX_PARTS];
} wino_job;

static wino_job wino_job_of(const layer *l, const layer_call *call)
{
    wino_job j = {.l = l, .call = call};
    j.d =
        wino_dims_of(l, call->in_shape, call->out_shape, call->batch, call->parts, call->training);
    j.u = call->scratch;
    return j;
}

static wino_part wino_part_of(const wino_job *j, int part)
{
    wino_part s;
    s.padded = j->call->scratch + j->d.u + (size_t)part * j->d.per_part;
    s.v = s.padded + j->d.padded;
    s.m = s.v + j->d.v;
    s.du = s.m + j->d.m;
    s.dbias = s.du + j->d.du;
    return s;
}

/* U = G g G^T for filters [begin, end) (filter q = k * Cg + c). */
SIMD_CLONES static void filter_transform(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const wino_job *j = ctx;
    const size_t filters = (size_t)j->d.K * j->d.Cg;
    float g[9 * LANES], u[XI * LANES];
    for (int64_t q0 = begin; q0 < end; q0 += LANES) {
        const int n = end - q0 < LANES ? (int)(end - q0) : LANES;
        for (int l = 0; l < LANES; l++) {
            const float *w = j->l->weight + (size_t)(q0 + (l < n ? l : n - 1)) * 9;
            for (int i = 0; i < 9; i++)
                g[i * LANES + l] = w[i];
        }
        transform(FILTER, g, u);
        for (int xi = 0; xi < XI; xi++)
            memcpy(j->u + (size_t)xi * filters + (size_t)q0, u + xi * LANES, sizeof(float) * n);
    }
}

/* Where lane l's tile starts in the padded chunk (channel 0), and, for tiles p0.. of the chunk,
 * the image and output position of each lane. Returns the number of real lanes. */
static int lane_tiles(const wino_dims *d, size_t p0, size_t P, size_t offset[LANES],
                      int image[LANES], int oy[LANES], int ox[LANES])
{
    const int n = P - p0 < LANES ? (int)(P - p0) : LANES;
    for (int l = 0; l < LANES; l++) {
        const size_t p = p0 + (size_t)(l < n ? l : n - 1);
        const int img = (int)(p / (size_t)d->tiles), t = (int)(p % (size_t)d->tiles);
        image[l] = img;
        oy[l] = t / d->tiles_x * OUT;
        ox[l] = t % d->tiles_x * OUT;
        offset[l] = (size_t)img * d->C * d->Hp * d->Wp + (size_t)oy[l] * d->Wp + (size_t)ox[l];
    }
    return n;
}

/* Images per chunk for a part's range: at most `chunk`, and as equal as they go, so that no GEMM
 * is left with a sliver of columns. */
static int64_t even_chunk(int64_t begin, int64_t end, int chunk)
{
    const int64_t chunks = (end - begin + chunk - 1) / chunk;
    return chunks > 0 ? (end - begin + chunks - 1) / chunks : 1;
}

/* Copies `count` images into the part's padded buffer: the zero border, the image at (pad, pad). */
static void pad_chunk(const wino_dims *d, const float *images, int count, float *padded)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    memset(padded, 0, sizeof(float) * (size_t)count * d->C * plane);
    for (size_t c = 0; c < (size_t)count * d->C; c++)
        for (int y = 0; y < d->H; y++)
            memcpy(padded + c * plane + (size_t)(y + d->pad) * d->Wp + d->pad,
                   images + (c * d->H + y) * d->W, sizeof(float) * d->W);
}

/* V = B^T d B for every tile of the chunk and every channel. */
SIMD_CLONES static void input_transform(const wino_dims *d, const float *padded, size_t P, float *v)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    size_t offset[LANES];
    int image[LANES], oy[LANES], ox[LANES];
    float tile[XI * LANES], out[XI * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        const int n = lane_tiles(d, p0, P, offset, image, oy, ox);
        for (int c = 0; c < d->C; c++) {
            for (int l = 0; l < LANES; l++) {
                const float *src = padded + offset[l] + (size_t)c * plane;
                for (int i = 0; i < T; i++)
                    for (int k = 0; k < T; k++)
                        tile[(i * T + k) * LANES + l] = src[(size_t)i * d->Wp + k];
            }
            transform(INPUT, tile, out);
            for (int xi = 0; xi < XI; xi++)
                memcpy(v + ((size_t)xi * d->C + c) * P + p0, out + xi * LANES, sizeof(float) * n);
        }
    }
}

/* Y = A^T M A, clipped to the output, plus the bias, into images n0.. of the call's output. */
SIMD_CLONES static void output_transform(const wino_job *j, const float *m, size_t P, int64_t n0)
{
    const wino_dims *d = &j->d;
    const size_t out_size = (size_t)d->K * d->out_h * d->out_w;
    size_t offset[LANES];
    int image[LANES], oy[LANES], ox[LANES];
    float prod[XI * LANES], y[OUT * OUT * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        const int n = lane_tiles(d, p0, P, offset, image, oy, ox);
        for (int k = 0; k < d->K; k++) {
            for (int xi = 0; xi < XI; xi++) {
                const float *src = m + ((size_t)xi * d->K + k) * P + p0;
                for (int l = 0; l < LANES; l++)
                    prod[xi * LANES + l] = l < n ? src[l] : 0.0f;
            }
            transform(OUTPUT, prod, y);
            const float bias = j->l->bias[k];
            for (int l = 0; l < n; l++) {
                float *o = j->call->out + (size_t)(n0 + image[l]) * out_size +
                           (size_t)k * d->out_h * d->out_w;
                const int rows = d->out_h - oy[l] < OUT ? d->out_h - oy[l] : OUT;
                const int cols = d->out_w - ox[l] < OUT ? d->out_w - ox[l] : OUT;
                for (int i = 0; i < rows; i++)
                    for (int c = 0; c < cols; c++)
                        o[(size_t)(oy[l] + i) * d->out_w + ox[l] + c] =
                            y[(i * OUT + c) * LANES + l] + bias;
            }
        }
    }
}

/* The 36 GEMMs of a chunk, per group: M = U V. */
static void multiply(const wino_dims *d, const float *u, const float *v, float *m, size_t P)
{
    for (int xi = 0; xi < XI; xi++)
        for (int g = 0; g < d->groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->Kg, (int)P, d->Cg, 1.0f,
                        u + ((size_t)xi * d->K + (size_t)g * d->Kg) * d->Cg, d->Cg,
                        v + ((size_t)xi * d->C + (size_t)g * d->Cg) * P, (int)P, 0.0f,
                        m + ((size_t)xi * d->K + (size_t)g * d->Kg) * P, (int)P);
}

static void forward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const wino_job *j = ctx;
    const wino_dims *d = &j->d;
    wino_part s = wino_part_of(j, part);
    const size_t in_size = (size_t)d->C * d->H * d->W;
    const int64_t step = even_chunk(begin, end, d->chunk);
    for (int64_t n0 = begin; n0 < end; n0 += step) {
        const int count = (int)(end - n0 < step ? end - n0 : step);
        const size_t P = (size_t)count * d->tiles;
        pad_chunk(d, j->call->in + (size_t)n0 * in_size, count, s.padded);
        input_transform(d, s.padded, P, s.v);
        multiply(d, j->u, s.v, s.m, P);
        output_transform(j, s.m, P, n0);
    }
}

void winograd_forward(const layer *l, const layer_call *call)
{
    wino_job j = wino_job_of(l, call);
    parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg, filter_transform, &j);
    parallel_run(call->parts, call->batch, forward_images, &j);
}

/* dM = A dY A^T for every tile of the chunk and every output channel (zero beyond the output). */
SIMD_CLONES static void output_adjoint(const wino_dims *d, const float *dout, size_t P, float *dm)
{
    const size_t out_plane = (size_t)d->out_h * d->out_w, out_size = (size_t)d->K * out_plane;
    size_t offset[LANES];
    int image[LANES], oy[LANES], ox[LANES];
    float dy[OUT * OUT * LANES], out[XI * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        const int n = lane_tiles(d, p0, P, offset, image, oy, ox);
        for (int k = 0; k < d->K; k++) {
            for (int l = 0; l < LANES; l++) {
                const float *src = dout + (size_t)image[l] * out_size + (size_t)k * out_plane;
                for (int i = 0; i < OUT; i++)
                    for (int c = 0; c < OUT; c++) {
                        const int y = oy[l] + i, x = ox[l] + c;
                        dy[(i * OUT + c) * LANES + l] = l < n && y < d->out_h && x < d->out_w
                                                            ? src[(size_t)y * d->out_w + x]
                                                            : 0.0f;
                    }
            }
            transform(OUTPUT_ADJ, dy, out);
            for (int xi = 0; xi < XI; xi++)
                memcpy(dm + ((size_t)xi * d->K + k) * P + p0, out + xi * LANES, sizeof(float) * n);
        }
    }
}

/* din of the chunk's images = the adjoint of pad_chunk and input_transform applied to dV. */
SIMD_CLONES static void input_adjoint(const wino_dims *d, const float *dv, size_t P, int count,
                                      float *padded, float *din)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    size_t offset[LANES];
    int image[LANES], oy[LANES], ox[LANES];
    float grad[XI * LANES], tile[XI * LANES];
    memset(padded, 0, sizeof(float) * (size_t)count * d->C * plane);
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        const int n = lane_tiles(d, p0, P, offset, image, oy, ox);
        for (int c = 0; c < d->C; c++) {
            for (int xi = 0; xi < XI; xi++) {
                const float *src = dv + ((size_t)xi * d->C + c) * P + p0;
                for (int l = 0; l < LANES; l++)
                    grad[xi * LANES + l] = l < n ? src[l] : 0.0f;
            }
            transform(INPUT_ADJ, grad, tile);
            for (int l = 0; l < n; l++) { /* in lane order: neighbouring tiles overlap */
                float *dst = padded + offset[l] + (size_t)c * plane;
                for (int i = 0; i < T; i++)
                    for (int k = 0; k < T; k++)
                        dst[(size_t)i * d->Wp + k] += tile[(i * T + k) * LANES + l];
            }
        }
    }
    for (size_t c = 0; c < (size_t)count * d->C; c++)
        for (int y = 0; y < d->H; y++)
            memcpy(din + (c * d->H + y) * d->W,
                   padded + c * plane + (size_t)(y + d->pad) * d->Wp + d->pad,
                   sizeof(float) * d->W);
}

static void backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const wino_job *j = ctx;
    const wino_dims *d = &j->d;
    const layer_call *call = j->call;
    wino_part s = wino_part_of(j, part);
    const size_t in_size = (size_t)d->C * d->H * d->W;
    const size_t out_plane = (size_t)d->out_h * d->out_w, out_size = (size_t)d->K * out_plane;
    bool first = true;
    const int64_t step = even_chunk(begin, end, d->chunk);
    for (int64_t n0 = begin; n0 < end; n0 += step) {
        const int count = (int)(end - n0 < step ? end - n0 : step);
        const size_t P = (size_t)count * d->tiles;
        const float *dout = call->dout + (size_t)n0 * out_size;
        pad_chunk(d, call->in + (size_t)n0 * in_size, count, s.padded);
        input_transform(d, s.padded, P, s.v);
        output_adjoint(d, dout, P, s.m);
        for (int k = 0; k < d->K; k++) {
            float sum = 0.0f;
            for (int c = 0; c < count; c++) {
                const float *row = dout + (size_t)c * out_size + (size_t)k * out_plane;
                for (size_t q = 0; q < out_plane; q++)
                    sum += row[q];
            }
            s.dbias[k] = first ? sum : s.dbias[k] + sum;
        }
        for (int xi = 0; xi < XI; xi++)
            for (int g = 0; g < d->groups; g++) {
                const size_t mk = ((size_t)xi * d->K + (size_t)g * d->Kg);
                float *v = s.v + ((size_t)xi * d->C + (size_t)g * d->Cg) * P;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->Kg, d->Cg, (int)P, 1.0f,
                            s.m + mk * P, (int)P, v, (int)P, first ? 0.0f : 1.0f, s.du + mk * d->Cg,
                            d->Cg);
                if (call->din) /* the tiles are no longer needed: they become their gradient */
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->Cg, (int)P, d->Kg, 1.0f,
                                j->u + mk * d->Cg, d->Cg, s.m + mk * P, (int)P, 0.0f, v, (int)P);
            }
        first = false;
        if (call->din)
            input_adjoint(d, s.v, P, count, s.padded, call->din + (size_t)n0 * in_size);
    }
}

/* dweight = G^T (sum of the parts' dU) G for filters [begin, end). */
SIMD_CLONES static void filter_adjoint(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const wino_job *j = ctx;
    const size_t filters = (size_t)j->d.K * j->d.Cg;
    float du[XI * LANES], g[9 * LANES];
    for (int64_t q0 = begin; q0 < end; q0 += LANES) {
        const int n = end - q0 < LANES ? (int)(end - q0) : LANES;
        for (int xi = 0; xi < XI; xi++)
            for (int l = 0; l < LANES; l++) {
                float sum = 0.0f;
                for (int p = 0; l < n && p < j->active; p++)
                    sum += j->part_du[p][(size_t)xi * filters + (size_t)q0 + l];
                du[xi * LANES + l] = sum;
            }
        transform(FILTER_ADJ, du, g);
        for (int l = 0; l < n; l++)
            for (int i = 0; i < 9; i++)
                j->l->dweight[(size_t)(q0 + l) * 9 + i] = g[i * LANES + l];
    }
}

void winograd_backward(const layer *l, const layer_call *call)
{
    wino_job j = wino_job_of(l, call);
    if (call->din)
        parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg, filter_transform, &j);
    parallel_run(call->parts, call->batch, backward_images, &j);
    for (int p = 0; p < call->parts; p++) {
        int64_t begin, end;
        parallel_range(call->batch, call->parts, p, &begin, &end);
        if (begin == end)
            continue;
        wino_part s = wino_part_of(&j, p);
        j.part_du[j.active] = s.du;
        j.part_dbias[j.active] = s.dbias;
        j.active++;
    }
    parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg, filter_adjoint, &j);
    for (int k = 0; k < j.d.K; k++) {
        float sum = 0.0f;
        for (int p = 0; p < j.active; p++)
            sum += j.part_dbias[p][k];
        l->dbias[k] = sum;
    }
}

void winograd_tile(const float d[36], const float g[9], float y[16])
{
    float dl[XI * LANES] = {0}, gl[9 * LANES] = {0}, v[XI * LANES], u[XI * LANES],
                  yl[OUT * OUT * LANES];
    for (int i = 0; i < XI; i++)
        dl[i * LANES] = d[i];
    for (int i = 0; i < 9; i++)
        gl[i * LANES] = g[i];
    transform(INPUT, dl, v);
    transform(FILTER, gl, u);
    for (int i = 0; i < XI * LANES; i++)
        v[i] *= u[i];
    transform(OUTPUT, v, yl);
    for (int i = 0; i < OUT * OUT; i++)
        y[i] = yl[i * LANES];
}
