/* Winograd convolution, F(4x4, 3x3) or F(3x3, 3x3) (see winograd.h).
 *
 * Tiles are numbered across a chunk of images (p = image * tiles + tile row * tiles across + tile
 * column), and every transform works on LANES tiles at once, one lane per tile, so that the
 * small matrix products vectorise over the lanes. Transformed data is laid out for the GEMMs,
 * one per position xi of a transformed tile (36 for F(4x4, 3x3), 25 for F(3x3, 3x3)):
 *   U [XI][K][C / groups]   the filters (shared by all parts, made once per call),
 *   V [XI][C][P]            a chunk's input tiles,
 *   M [XI][K][P]            their products, turned into the output by the output transform.
 * Each part takes a range of images, as conv.c's image path does; backward sums the parts' filter
 * gradients in part order. Input tiles are read from a copy of the chunk with its zero border
 * (and enough zeros right and below for the last, partial tile), so no read is bounds-checked. */
#include "winograd.h"

#include "memory.h"
#include "parallel.h"
#include "simd.h"
#include "winograd_plan.h"
#include "winograd_transforms.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

enum {
    TARGET_TILES = 96,      /* tiles (GEMM columns) per chunk: V and M stay in the caches */
    MIN_GROUP_CHANNELS = 16 /* fewer input channels per group: im2col + GEMM is faster */
};

static wino_dims wino_dims_of(const layer *l, shape in, shape out, int batch, int parts,
                              bool training)
{
    wino_dims d;
    d.s = l->conv.stride;
    d.kernel = l->conv.kernel;
    d.A = d.s > 1 ? d.s : (d.kernel + 2) / 3;
    d.step = d.s > 1 ? 1 : 3;
    d.in_c = l->conv.in_channels;
    d.C = d.in_c * d.A * d.A;
    d.K = l->conv.out_channels;
    d.groups = l->conv.groups;
    d.Cg = d.C / d.groups;
    d.Kg = d.K / d.groups;
    d.H = in.h;
    d.W = in.w;
    d.pad = l->conv.pad;
    d.out_h = out.h;
    d.out_w = out.w;
    /* The tile that spends fewer multiplications on this output: F(3x3, 3x3) on 6x6 maps. Phases
     * keep F(4x4, 3x3): their outputs are large, and their edge pixels, reached by few taps, have
     * gradients small next to their tiles' (what Winograd's error is relative to). */
    const int tiles4 = ((out.h + 3) / 4) * ((out.w + 3) / 4),
              tiles3 = ((out.h + 2) / 3) * ((out.w + 2) / 3);
    d.out_tile = d.A == 1 && tiles3 * 25 < tiles4 * 36 ? 3 : 4;
    d.T = d.out_tile + 2;
    d.XI = d.T * d.T;
    d.tiles_y = (out.h + d.out_tile - 1) / d.out_tile;
    d.tiles_x = (out.w + d.out_tile - 1) / d.out_tile;
    d.tiles = d.tiles_y * d.tiles_x;
    d.Hp = d.tiles_y * d.out_tile + 2;
    d.Wp = d.tiles_x * d.out_tile + 2;
    const int per_part = (batch + parts - 1) / parts;
    d.chunk = (TARGET_TILES + d.tiles - 1) / d.tiles;
    if (d.chunk > per_part)
        d.chunk = per_part;
    if (d.chunk < 1)
        d.chunk = 1;
    d.P = (size_t)d.chunk * d.tiles;
    d.u = memory_round_floats((size_t)d.XI * d.K * d.Cg);
    d.w3 = d.A > 1 ? memory_round_floats((size_t)d.K * d.Cg * 9) : 0;
    d.padded = memory_round_floats((size_t)d.chunk * d.C * d.Hp * d.Wp);
    /* Backward's last use of a part's V is before its filter gradient, which is then kept there. */
    const size_t dw = training ? (size_t)d.K * d.Cg * 9 : 0, v = (size_t)d.XI * d.C * d.P;
    d.v = memory_round_floats(v > dw ? v : dw);
    d.m = memory_round_floats((size_t)d.XI * d.K * d.P);
    d.du = training ? d.u : 0;
    d.dbias = training ? memory_round_floats((size_t)d.K) : 0;
    d.per_part = d.padded + d.v + d.m + d.du + d.dbias;
    return d;
}

bool winograd_applies(const layer *l, shape in)
{
    const int s = l->conv.stride, k = l->conv.kernel;
    const bool phases = s > 1 ? 2 * s < k && k <= 3 * s : k == 3 || k == 5 || k == 6;
    const int A = s > 1 ? s : (k + 2) / 3;
    if (!phases || l->conv.in_channels / l->conv.groups * A * A < MIN_GROUP_CHANNELS ||
        in.h + 2 * l->conv.pad < k || in.w + 2 * l->conv.pad < k)
        return false;
    /* The transforms gather and scatter a chunk's tiles through int32 offsets. */
    const shape out = {l->conv.out_channels, (in.h + 2 * l->conv.pad - k) / s + 1,
                       (in.w + 2 * l->conv.pad - k) / s + 1};
    const wino_dims d = wino_dims_of(l, in, out, TARGET_TILES, 1, false); /* the largest chunk */
    return (size_t)d.chunk * d.C * d.Hp * d.Wp <= INT32_MAX &&
           (size_t)d.chunk * d.K * d.out_h * d.out_w <= INT32_MAX;
}

size_t winograd_scratch_floats(const layer *l, shape in, shape out, int batch, int parts,
                               bool training)
{
    wino_dims d = wino_dims_of(l, in, out, batch, parts, training);
    return d.u + d.w3 + (size_t)parts * d.per_part;
}

typedef struct wino_part {
    float *padded, *v, *m, *du, *dw, *dbias;
} wino_part;

typedef struct wino_job {
    const layer *l;
    const layer_call *call;
    wino_dims d;
    float *u;
    const float *weight; /* the 3x3 filters: the layer's, or its phases' (in w3) */
    float *dweight;      /* their gradient: the layer's, or w3's area */
    int active;          /* backward: parts that had images, and their gradients */
    const float *part_dw[PARALLEL_MAX_PARTS];
    const float *part_dbias[PARALLEL_MAX_PARTS];
} wino_job;

static wino_job wino_job_of(const layer *l, const layer_call *call)
{
    wino_job j = {.l = l, .call = call};
    j.d =
        wino_dims_of(l, call->in_shape, call->out_shape, call->batch, call->parts, call->training);
    j.u = call->scratch;
    j.weight = l->weight;
    j.dweight = l->dweight;
    if (j.d.A > 1) {
        float *w3 = call->scratch + j.d.u;
        j.weight = w3;
        j.dweight = w3;
    }
    return j;
}

static wino_part wino_part_of(const wino_job *j, int part)
{
    wino_part s;
    s.padded = j->call->scratch + j->d.u + j->d.w3 + (size_t)part * j->d.per_part;
    s.v = s.padded + j->d.padded;
    s.m = s.v + j->d.v;
    s.du = s.m + j->d.m;
    s.dbias = s.du + j->d.du;
    s.dw = s.v;
    return s;
}

/* Each step below is written once for both tiles, with the tile's output side `ot` a constant
 * where it is inlined (always_inline), and a SIMD_CLONES function picks the instance: the
 * transforms' loops stay fully unrolled for either tile. */
#define FOR_TILE(d, body) ((d)->out_tile == 4 ? body(4) : body(3))
#define TRANSFORM(kind, ot, in, out)                                                               \
    ((ot) == 4 ? transform(kind##_4, in, out) : transform(kind##_3, in, out))

/* U = G g G^T for filters [begin, end) (filter q = k * Cg + c). */
static inline __attribute__((always_inline)) void
filter_transform_tile(const wino_job *j, int64_t begin, int64_t end, int ot)
{
    const size_t filters = (size_t)j->d.K * j->d.Cg;
    const int XI = (ot + 2) * (ot + 2);
    float g[9 * LANES], u[XI_MAX * LANES];
    for (int64_t q0 = begin; q0 < end; q0 += LANES) {
        const int n = end - q0 < LANES ? (int)(end - q0) : LANES;
        for (int l = 0; l < LANES; l++) {
            const float *w = j->weight + (size_t)(q0 + (l < n ? l : n - 1)) * 9;
            for (int i = 0; i < 9; i++)
                g[i * LANES + l] = w[i];
        }
        TRANSFORM(FILTER, ot, g, u);
        for (int xi = 0; xi < XI; xi++)
            memcpy(j->u + (size_t)xi * filters + (size_t)q0, u + xi * LANES, sizeof(float) * n);
    }
}

SIMD_CLONES static void filter_transform(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const wino_job *j = ctx;
#define FILTER_TRANSFORM(ot) filter_transform_tile(j, begin, end, ot)
    FOR_TILE(&j->d, FILTER_TRANSFORM);
}

/* Rows [0, rows) of `lanes` (LANES floats each, n of them real) to dst, `stride` floats apart:
 * whole vectors when every lane is real, as nearly always. */
static inline __attribute__((always_inline)) void store_lanes(const float *lanes, int rows, int n,
                                                              float *dst, size_t stride)
{
    for (int r = 0; r < rows; r++) {
        float *to = dst + (size_t)r * stride;
        const float *from = lanes + r * LANES;
        if (n == LANES)
            for (int l = 0; l < LANES; l++)
                to[l] = from[l];
        else
            for (int l = 0; l < n; l++)
                to[l] = from[l];
    }
}

/* One row of LANES floats from `from`, n of them real, zeros in the rest: a whole vector when
 * every lane is real, as nearly always (a conditional read does not vectorise). */
static inline __attribute__((always_inline)) void load_lanes(const float *from, int n, float *to)
{
    if (n == LANES)
        for (int l = 0; l < LANES; l++)
            to[l] = from[l];
    else
        for (int l = 0; l < LANES; l++)
            to[l] = l < n ? from[l] : 0.0f;
}

/* Tiles p0.. of a chunk, one per lane: where each starts in the padded chunk (channel 0) and in
 * the chunk's output (channel 0), and how many of its rows and columns are inside the output
 * (none for the lanes past the chunk's last tile). The gathers and scatters below go lane by lane,
 * a tile's rows whole (contiguous in memory), and the transforms between them across the lanes:
 * per-element loops over the lanes do not vectorise (conditional, or with overlapping tiles) and
 * cost more than the transforms themselves. */
typedef struct lane_tiles {
    int n;                               /* real lanes */
    int32_t in_at[LANES], out_at[LANES]; /* see winograd_applies */
    int rows[LANES], cols[LANES];
} lane_tiles;

static void lane_tiles_of(const wino_dims *d, size_t p0, size_t P, lane_tiles *t)
{
    const size_t out_size = (size_t)d->K * d->out_h * d->out_w;
    t->n = P - p0 < LANES ? (int)(P - p0) : LANES;
    for (int l = 0; l < LANES; l++) {
        const size_t p = p0 + (size_t)(l < t->n ? l : t->n - 1);
        const int img = (int)(p / (size_t)d->tiles), tile = (int)(p % (size_t)d->tiles);
        const int ot = d->out_tile, oy = tile / d->tiles_x * ot, ox = tile % d->tiles_x * ot;
        t->in_at[l] = (int32_t)((size_t)img * d->C * d->Hp * d->Wp + (size_t)oy * d->Wp + ox);
        t->out_at[l] = (int32_t)((size_t)img * out_size + (size_t)oy * d->out_w + ox);
        t->rows[l] = l >= t->n ? 0 : d->out_h - oy < ot ? d->out_h - oy : ot;
        t->cols[l] = l >= t->n ? 0 : d->out_w - ox < ot ? d->out_w - ox : ot;
    }
}

/* Images per chunk for a part's range: at most `chunk`, and as equal as they go, so that no GEMM
 * is left with a sliver of columns. */
static int64_t even_chunk(int64_t begin, int64_t end, int chunk)
{
    const int64_t chunks = (end - begin + chunk - 1) / chunk;
    return chunks > 0 ? (end - begin + chunks - 1) / chunks : 1;
}

/* V = B^T d B for every tile of the chunk and every channel. */
static inline __attribute__((always_inline)) void
input_transform_tile(const wino_dims *d, const float *padded, size_t P, float *v, int ot)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    const int T = ot + 2, XI = T * T;
    lane_tiles t;
    float tile[XI_MAX * LANES], out[XI_MAX * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        lane_tiles_of(d, p0, P, &t);
        for (int c = 0; c < d->C; c++) {
            const float *src = padded + (size_t)c * plane;
            for (int l = 0; l < LANES; l++) /* a tile's rows are contiguous: copy them whole */
                for (int i = 0; i < T; i++)
                    for (int k = 0; k < T; k++)
                        tile[(i * T + k) * LANES + l] = src[t.in_at[l] + (size_t)i * d->Wp + k];
            TRANSFORM(INPUT, ot, tile, out);
            store_lanes(out, XI, t.n, v + (size_t)c * P + p0, (size_t)d->C * P);
        }
    }
}

SIMD_CLONES static void input_transform(const wino_dims *d, const float *padded, size_t P, float *v)
{
#define INPUT_TRANSFORM(ot) input_transform_tile(d, padded, P, v, ot)
    FOR_TILE(d, INPUT_TRANSFORM);
}

/* Y = A^T M A, clipped to the output, plus the bias (and the ReLU, conv.relu), into images n0..
 * of the call's output. */
static inline __attribute__((always_inline)) void
output_transform_tile(const wino_job *j, const float *m, size_t P, int64_t n0, int ot)
{
    const wino_dims *d = &j->d;
    const size_t out_plane = (size_t)d->out_h * d->out_w, out_size = (size_t)d->K * out_plane;
    const int XI = (ot + 2) * (ot + 2);
    const bool relu = j->l->conv.relu;
    lane_tiles t;
    float prod[XI_MAX * LANES], y[16 * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        lane_tiles_of(d, p0, P, &t);
        for (int k = 0; k < d->K; k++) {
            for (int xi = 0; xi < XI; xi++) {
                load_lanes(m + ((size_t)xi * d->K + k) * P + p0, t.n, prod + xi * LANES);
            }
            TRANSFORM(OUTPUT, ot, prod, y);
            const float bias = j->l->bias[k];
            if (relu)
                for (int i = 0; i < ot * ot * LANES; i++)
                    y[i] = relu_value(y[i] + bias);
            else
                for (int i = 0; i < ot * ot * LANES; i++)
                    y[i] += bias;
            float *o = j->call->out + (size_t)n0 * out_size + (size_t)k * out_plane;
            for (int l = 0; l < t.n; l++) {
                float *at = o + t.out_at[l];
                if (t.rows[l] == ot && t.cols[l] == ot) /* inside the output: fully unrolled */
                    for (int i = 0; i < ot; i++)
                        for (int c = 0; c < ot; c++)
                            at[(size_t)i * d->out_w + c] = y[(i * ot + c) * LANES + l];
                else
                    for (int i = 0; i < ot && i < t.rows[l]; i++)
                        for (int c = 0; c < ot && c < t.cols[l]; c++)
                            at[(size_t)i * d->out_w + c] = y[(i * ot + c) * LANES + l];
            }
        }
    }
}

SIMD_CLONES static void output_transform(const wino_job *j, const float *m, size_t P, int64_t n0)
{
#define OUTPUT_TRANSFORM(ot) output_transform_tile(j, m, P, n0, ot)
    FOR_TILE(&j->d, OUTPUT_TRANSFORM);
}

/* The GEMMs of a chunk, one per position and group: M = U V. */
static void multiply(const wino_dims *d, const float *u, const float *v, float *m, size_t P)
{
    for (int xi = 0; xi < d->XI; xi++)
        for (int g = 0; g < d->groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->Kg, (int)P, d->Cg, 1.0f,
                        u + ((size_t)xi * d->K + (size_t)g * d->Kg) * d->Cg, d->Cg,
                        v + ((size_t)xi * d->C + (size_t)g * d->Cg) * P, (int)P, 0.0f,
                        m + ((size_t)xi * d->K + (size_t)g * d->Kg) * P, (int)P);
}

/* The chunks of a pass are the ones each part's range is cut into (even_chunk), numbered across
 * the parts in order: chunk `item` starts at image *n0 and has *count images. */
static void chunk_of(const wino_job *j, int64_t item, int64_t *n0, int *count)
{
    for (int part = 0; part < j->call->parts; part++) {
        int64_t begin, end;
        parallel_range(j->call->batch, j->call->parts, part, &begin, &end);
        const int64_t step = even_chunk(begin, end, j->d.chunk);
        const int64_t chunks = (end - begin + step - 1) / step;
        if (item < chunks) {
            *n0 = begin + item * step;
            *count = (int)(end - *n0 < step ? end - *n0 : step);
            return;
        }
        item -= chunks;
    }
    *n0 = 0;
    *count = 0;
}

static int64_t chunk_count(const wino_job *j)
{
    int64_t chunks = 0;
    for (int part = 0; part < j->call->parts; part++) {
        int64_t begin, end;
        parallel_range(j->call->batch, j->call->parts, part, &begin, &end);
        const int64_t step = even_chunk(begin, end, j->d.chunk);
        chunks += (end - begin + step - 1) / step;
    }
    return chunks;
}

/* Chunks are independent in forward: they are handed out as threads free up
 * (parallel_run_balanced), and `slot` names the thread's scratch. */
static void forward_chunks(void *ctx, int64_t begin, int64_t end, int slot)
{
    const wino_job *j = ctx;
    const wino_dims *d = &j->d;
    wino_part s = wino_part_of(j, slot);
    const size_t in_size = (size_t)d->in_c * d->H * d->W;
    for (int64_t item = begin; item < end; item++) {
        int64_t n0;
        int count;
        chunk_of(j, item, &n0, &count);
        const size_t P = (size_t)count * d->tiles;
        winograd_pad_chunk(d, j->call->in + (size_t)n0 * in_size, count, s.padded);
        input_transform(d, s.padded, P, s.v);
        multiply(d, j->u, s.v, s.m, P);
        output_transform(j, s.m, P, n0);
    }
}

void winograd_forward(const layer *l, const layer_call *call)
{
    wino_job j = wino_job_of(l, call);
    if (j.d.A > 1)
        winograd_phase_filters(&j.d, l->weight, (float *)j.weight);
    parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg, filter_transform, &j);
    parallel_run_balanced(call->parts, chunk_count(&j), forward_chunks, &j);
}

/* dM = A dY A^T for every tile of the chunk and every output channel (zero beyond the output). */
static inline __attribute__((always_inline)) void
output_adjoint_tile(const wino_dims *d, const float *dout, size_t P, float *dm, int ot)
{
    const size_t out_plane = (size_t)d->out_h * d->out_w;
    const int XI = (ot + 2) * (ot + 2);
    lane_tiles t;
    float dy[16 * LANES], out[XI_MAX * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        lane_tiles_of(d, p0, P, &t);
        for (int k = 0; k < d->K; k++) {
            const float *src = dout + (size_t)k * out_plane;
            for (int l = 0; l < LANES; l++) {
                const float *at = src + t.out_at[l];
                if (t.rows[l] == ot && t.cols[l] == ot) /* inside the output: fully unrolled */
                    for (int i = 0; i < ot; i++)
                        for (int c = 0; c < ot; c++)
                            dy[(i * ot + c) * LANES + l] = at[(size_t)i * d->out_w + c];
                else
                    for (int i = 0; i < ot; i++)
                        for (int c = 0; c < ot; c++)
                            dy[(i * ot + c) * LANES + l] = i < t.rows[l] && c < t.cols[l]
                                                               ? at[(size_t)i * d->out_w + c]
                                                               : 0.0f;
            }
            TRANSFORM(OUTPUT_ADJ, ot, dy, out);
            store_lanes(out, XI, t.n, dm + (size_t)k * P + p0, (size_t)d->K * P);
        }
    }
}

SIMD_CLONES static void output_adjoint(const wino_dims *d, const float *dout, size_t P, float *dm)
{
#define OUTPUT_ADJOINT(ot) output_adjoint_tile(d, dout, P, dm, ot)
    FOR_TILE(d, OUTPUT_ADJOINT);
}

/* din of the chunk's images: the adjoint of winograd_pad_chunk and input_transform, on dV. */
static inline __attribute__((always_inline)) void
input_adjoint_tile(const wino_dims *d, const float *dv, size_t P, float *padded, int ot)
{
    const size_t plane = (size_t)d->Hp * d->Wp;
    const int T = ot + 2, XI = T * T;
    lane_tiles t;
    float grad[XI_MAX * LANES], tile[XI_MAX * LANES];
    for (size_t p0 = 0; p0 < P; p0 += LANES) {
        lane_tiles_of(d, p0, P, &t);
        for (int c = 0; c < d->C; c++) {
            for (int xi = 0; xi < XI; xi++)
                load_lanes(dv + ((size_t)xi * d->C + c) * P + p0, t.n, grad + xi * LANES);
            TRANSFORM(INPUT_ADJ, ot, grad, tile);
            float *dst = padded + (size_t)c * plane;
            for (int l = 0; l < t.n; l++) /* tiles overlap: lane by lane, each row whole */
                for (int i = 0; i < T; i++)
                    for (int k = 0; k < T; k++)
                        dst[t.in_at[l] + (size_t)i * d->Wp + k] += tile[(i * T + k) * LANES + l];
        }
    }
}

SIMD_CLONES static void input_adjoint(const wino_dims *d, const float *dv, size_t P, int count,
                                      float *padded, float *din)
{
    memset(padded, 0, sizeof(float) * (size_t)count * d->C * d->Hp * d->Wp);
#define INPUT_ADJOINT(ot) input_adjoint_tile(d, dv, P, padded, ot)
    FOR_TILE(d, INPUT_ADJOINT);
    winograd_unpad_chunk(d, padded, count, din);
}

/* A part's filter gradient dw = G^T dU G, for all its filters. */
static inline __attribute__((always_inline)) void
filter_adjoint_tile(const wino_dims *d, const float *du_all, float *dw, int ot)
{
    const size_t filters = (size_t)d->K * d->Cg;
    const int XI = (ot + 2) * (ot + 2);
    float du[XI_MAX * LANES], g[9 * LANES];
    for (size_t q0 = 0; q0 < filters; q0 += LANES) {
        const int n = filters - q0 < LANES ? (int)(filters - q0) : LANES;
        for (int xi = 0; xi < XI; xi++) {
            const float *from = du_all + (size_t)xi * filters + q0;
            for (int l = 0; l < LANES; l++)
                du[xi * LANES + l] = l < n ? from[l] : 0.0f;
        }
        TRANSFORM(FILTER_ADJ, ot, du, g);
        for (int l = 0; l < n; l++)
            for (int i = 0; i < 9; i++)
                dw[(q0 + (size_t)l) * 9 + i] = g[i * LANES + l];
    }
}

SIMD_CLONES static void filter_adjoint(const wino_dims *d, const float *du, float *dw)
{
#define FILTER_ADJOINT(ot) filter_adjoint_tile(d, du, dw, ot)
    FOR_TILE(d, FILTER_ADJOINT);
}

static void backward_images(void *ctx, int64_t begin, int64_t end, int part)
{
    const wino_job *j = ctx;
    const wino_dims *d = &j->d;
    const layer_call *call = j->call;
    wino_part s = wino_part_of(j, part);
    const size_t in_size = (size_t)d->in_c * d->H * d->W;
    const size_t out_plane = (size_t)d->out_h * d->out_w, out_size = (size_t)d->K * out_plane;
    bool first = true;
    const int64_t step = even_chunk(begin, end, d->chunk);
    for (int64_t n0 = begin; n0 < end; n0 += step) {
        const int count = (int)(end - n0 < step ? end - n0 : step);
        const size_t P = (size_t)count * d->tiles;
        const float *dout = call->dout + (size_t)n0 * out_size;
        winograd_pad_chunk(d, call->in + (size_t)n0 * in_size, count, s.padded);
        input_transform(d, s.padded, P, s.v);
        output_adjoint(d, dout, P, s.m);
        for (int k = 0; k < d->K; k++) {
            float sum = 0.0f;
            for (int c = 0; c < count; c++)
                sum += layer_sum(dout + (size_t)c * out_size + (size_t)k * out_plane, out_plane);
            s.dbias[k] = first ? sum : s.dbias[k] + sum;
        }
        for (int xi = 0; xi < d->XI; xi++)
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
    /* Here, while the part's dU is in this core's caches: summing the parts' dU instead makes
     * each core read what the others wrote, and G^T dU G is a quarter of the size or less. */
    filter_adjoint(d, s.du, s.dw);
}

/* The weight gradient: the parts' filter gradients added in part order. */
static void sum_parts(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const wino_job *j = ctx;
    for (int64_t i = begin; i < end; i++) {
        float sum = 0.0f;
        for (int p = 0; p < j->active; p++)
            sum += j->part_dw[p][i];
        j->dweight[i] = sum;
    }
}

void winograd_backward(const layer *l, const layer_call *call)
{
    wino_job j = wino_job_of(l, call);
    if (call->din) {
        if (j.d.A > 1)
            winograd_phase_filters(&j.d, l->weight, (float *)j.weight);
        parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg, filter_transform, &j);
    }
    parallel_run(call->parts, call->batch, backward_images, &j);
    int active[PARALLEL_MAX_PARTS];
    j.active = parallel_active_parts(call->batch, call->parts, active);
    for (int i = 0; i < j.active; i++) {
        wino_part s = wino_part_of(&j, active[i]);
        j.part_dw[i] = s.dw;
        j.part_dbias[i] = s.dbias;
    }
    parallel_run(call->parts, (int64_t)j.d.K * j.d.Cg * 9, sum_parts, &j);
    if (j.d.A > 1) /* U is made: the phases' filters' area now holds their gradient */
        winograd_phase_filters_adjoint(&j.d, j.dweight, l->dweight);
    for (int k = 0; k < j.d.K; k++) {
        float sum = 0.0f;
        for (int p = 0; p < j.active; p++)
            sum += j.part_dbias[p][k];
        l->dbias[k] = sum;
    }
}

void winograd_tile(int out_tile, const float *d, const float *g, float *y)
{
    const int XI = (out_tile + 2) * (out_tile + 2);
    float dl[XI_MAX * LANES] = {0}, gl[9 * LANES] = {0}, v[XI_MAX * LANES], u[XI_MAX * LANES],
                      yl[16 * LANES];
    for (int i = 0; i < XI; i++)
        dl[i * LANES] = d[i];
    for (int i = 0; i < 9; i++)
        gl[i * LANES] = g[i];
    TRANSFORM(INPUT, out_tile, dl, v);
    TRANSFORM(FILTER, out_tile, gl, u);
    for (int i = 0; i < XI * LANES; i++)
        v[i] *= u[i];
    TRANSFORM(OUTPUT, out_tile, v, yl);
    for (int i = 0; i < out_tile * out_tile; i++)
        y[i] = yl[i * LANES];
}

int winograd_tile_side(const layer *l, shape in, shape out)
{
    return wino_dims_of(l, in, out, 1, 1, false).out_tile;
}
