/* Every layer's forward against a direct reference and its backward against finite differences,
 * with the parallel splits the network uses (several parts, batches smaller than the parts). */
#include "layer_harness.h"
#include "test_helpers.h"

#include "conv_plane.h"
#include "loss.h"
#include "network.h"
#include "parallel.h"
#include "winograd.h"

#include <stdio.h>
#include <time.h>

static void assert_close(const float *got, const double *want, size_t n, double tolerance,
                         const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tolerance * (1.0 + fabs(want[i])),
                      "%s[%zu]: %.7f, expected %.7f", what, i, got[i], want[i]);
}

static void check_conv_forward(harness *h)
{
    double *want = malloc(sizeof(double) * h->out_count);
    conv_reference(h, want);
    harness_forward(h);
    assert_close(h->y, want, h->out_count, 1e-5, "conv output");
    free(want);
}

typedef struct conv_case {
    int in_c, out_c, k, stride, pad, groups, h, w, batch, parts;
} conv_case;

static const conv_case CONV_CASES[] = {
    {3, 4, 3, 1, 1, 1, 6, 5, 2, 1},    /* same padding                              */
    {4, 6, 5, 2, 2, 2, 9, 7, 3, 2},    /* stride, padding and groups, odd sizes      */
    {3, 4, 11, 4, 0, 1, 23, 23, 2, 2}, /* the paper's conv1 geometry, smaller        */
    {4, 4, 3, 1, 1, 2, 4, 4, 5, 2},    /* small maps: several images per GEMM chunk  */
    {2, 6, 3, 1, 1, 2, 5, 5, 1, 3},    /* one image, three parts: split inside it    */
    {2, 3, 5, 3, 1, 1, 8, 6, 4, 3},    /* stride that skips input columns            */
    {2, 3, 3, 1, 1, 1, 30, 30, 5, 1},  /* several chunks of two images in one part   */
    /* One input channel (MINI's conv1 on grey images): */
    {1, 6, 3, 1, 1, 1, 9, 11, 3, 2},  /* MINI's conv1, smaller: rows shorter than a block */
    {1, 4, 5, 1, 2, 1, 7, 37, 2, 1},  /* two whole blocks of 16 and a remainder           */
    {1, 3, 3, 1, 0, 1, 20, 18, 1, 2}, /* no padding; one image, two parts                 */
};

START_TEST(conv_matches_direct_convolution_and_finite_differences)
{
    const conv_case *c = &CONV_CASES[_i];
    harness h;
    make_conv(&h, c->in_c, c->out_c, c->k, c->stride, c->pad, c->groups);
    harness_setup(&h, (shape){c->in_c, c->h, c->w}, c->batch, c->parts);
    check_conv_forward(&h);
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}
END_TEST

START_TEST(conv_gives_same_result_for_any_split)
{
    harness a, b;
    make_conv(&a, 4, 8, 3, 1, 1, 2);
    make_conv(&b, 4, 8, 3, 1, 1, 2);
    harness_setup(&a, (shape){4, 7, 7}, 5, 1);
    harness_setup(&b, (shape){4, 7, 7}, 5, 4);
    harness_backward(&a);
    harness_backward(&b);
    for (size_t i = 0; i < a.out_count; i++)
        ck_assert_float_eq_tol(a.y[i], b.y[i], 1e-5f);
    for (size_t i = 0; i < a.in_count; i++)
        ck_assert_float_eq_tol(a.dx[i], b.dx[i], 1e-5f);
    for (size_t i = 0; i < a.w_count; i++)
        ck_assert_float_eq_tol(a.dw[i], b.dw[i], 1e-4f);
    harness_free(&a);
    harness_free(&b);
}
END_TEST

/* A convolution that applies the following ReLU (conv.relu) writes exactly max(y, 0) of what it
 * writes without, on every path: the direct kernel for one input channel, Winograd's, and
 * im2col + GEMM over images, over columns and over channels (a batch smaller than the parts). */
START_TEST(conv_applies_the_relu_it_takes_over)
{
    const struct {
        int in_c, out_c, groups, side, batch;
        enum { PLANE, WINOGRAD, IM2COL } path;
    } cases[] = {{1, 8, 1, 9, 3, PLANE},
                 {16, 8, 1, 6, 3, WINOGRAD},
                 {4, 8, 2, 7, 5, IM2COL},
                 {4, 8, 1, 7, 1, IM2COL},
                 {4, 64, 1, 5, 1, IM2COL}};
    harness h;
    make_conv(&h, cases[_i].in_c, cases[_i].out_c, 3, 1, 1, cases[_i].groups);
    const shape in = {cases[_i].in_c, cases[_i].side, cases[_i].side};
    harness_setup(&h, in, cases[_i].batch, 2);
    ck_assert(conv_plane_applies(&h.l) == (cases[_i].path == PLANE));
    ck_assert(winograd_applies(&h.l, in) == (cases[_i].path == WINOGRAD));
    harness_forward(&h);
    float *plain = malloc(sizeof(float) * h.out_count);
    memcpy(plain, h.y, sizeof(float) * h.out_count);
    h.l.conv.relu = true;
    harness_forward(&h);
    size_t negative = 0;
    for (size_t i = 0; i < h.out_count; i++) {
        negative += plain[i] < 0.0f;
        ck_assert_float_eq(h.y[i], relu_value(plain[i]));
    }
    ck_assert_uint_gt(negative, h.out_count / 4);
    free(plain);
    harness_free(&h);
}
END_TEST

/* The first layer needs no input gradient: backward with din = NULL must write none (a write
 * through NULL would crash the test) and give every weight and bias gradient bit for bit as a full
 * backward does, which fills all of din. */
START_TEST(conv_backward_skips_input_gradient_when_not_needed)
{
    harness h;
    make_conv(&h, 3, 4, 3, 1, 1, 1);
    harness_setup(&h, (shape){3, 5, 5}, 2, 2);
    harness_forward(&h);
    layer_call call = harness_call(&h);
    call.dout = h.r;
    call.din = NULL;
    h.l.ops->backward(&h.l, &call);
    float *dw = malloc(sizeof(float) * h.w_count), *db = malloc(sizeof(float) * h.b_count);
    memcpy(dw, h.dw, sizeof(float) * h.w_count);
    memcpy(db, h.db, sizeof(float) * h.b_count);
    for (size_t i = 0; i < h.in_count; i++)
        h.dx[i] = NAN;
    harness_backward(&h);
    ck_assert_mem_eq(h.dw, dw, sizeof(float) * h.w_count);
    ck_assert_mem_eq(h.db, db, sizeof(float) * h.b_count);
    for (size_t i = 0; i < h.in_count; i++)
        ck_assert_msg(isfinite(h.dx[i]), "din[%zu] was not written by the full backward", i);
    free(dw);
    free(db);
    harness_free(&h);
}
END_TEST

START_TEST(relu_clamps_and_passes_gradient_where_positive)
{
    harness h;
    memset(&h, 0, sizeof h);
    h.l.ops = &relu_ops;
    strcpy(h.l.name, "relu");
    harness_setup(&h, (shape){3, 4, 5}, 2, 2);
    fill_separated(h.x, h.in_count, 5, 0.05f);
    harness_forward(&h);
    for (size_t i = 0; i < h.in_count; i++)
        ck_assert_float_eq(h.y[i], h.x[i] > 0 ? h.x[i] : 0.0f);
    harness_check_all(&h, 1e-2f);
    /* Done by its neighbours, forward by the convolution before (conv.relu) and backward by the
     * LRN after (lrn.masks_relu): in place, the activations and the gradient pass untouched. */
    h.l.relu.applied_by_previous = true;
    memcpy(h.y, h.r, sizeof(float) * h.out_count);
    harness_forward(&h);
    ck_assert_mem_eq(h.y, h.r, sizeof(float) * h.out_count);
    h.l.relu.applied_by_previous = false;
    h.l.relu.masked_by_next = true;
    memcpy(h.dx, h.r, sizeof(float) * h.in_count);
    layer_call call = harness_call(&h);
    call.dout = call.din = h.dx;
    h.l.ops->backward(&h.l, &call);
    for (size_t i = 0; i < h.in_count; i++)
        ck_assert_float_eq(h.dx[i], h.r[i]);
    h.l.relu.masked_by_next = false;
    h.x[0] = NAN;
    harness_forward(&h);
    ck_assert(isnan(h.y[0]));
    harness_free(&h);
}
END_TEST

/* tanh: within 4 float ulps of double-precision tanh over the whole range (both of the kernel's
 * formulas, the switch at 0.625, saturation from 9), NaN and infinities as tanh has them, and the
 * gradient 1 - tanh^2 against finite differences. */
START_TEST(tanh_matches_libm_and_finite_differences)
{
    harness h;
    memset(&h, 0, sizeof h);
    h.l.ops = &tanh_ops;
    strcpy(h.l.name, "tanh");
    harness_setup(&h, (shape){3, 20, 25}, 2, 2);
    for (size_t i = 0; i < h.in_count; i++) /* -12 to 12, denser near 0 */
        h.x[i] = 12.0f * powf((float)i / (float)h.in_count * 2.0f - 1.0f, 3.0f);
    h.x[1] = 0.625f;
    h.x[2] = nextafterf(0.625f, 0.0f);
    h.x[3] = -1e-30f;
    h.x[4] = 0.0f;
    harness_forward(&h);
    for (size_t i = 0; i < h.in_count; i++) {
        const double want = tanh((double)h.x[i]);
        const double ulp = nextafterf((float)fabs(want), INFINITY) - (float)fabs(want);
        ck_assert_msg(fabs(h.y[i] - want) <= 4.0 * ulp, "tanh(%.9g) gave %.9g, not %.9g",
                      (double)h.x[i], (double)h.y[i], want);
    }
    ck_assert(signbit(h.y[3]) && h.y[4] == 0.0f && !signbit(h.y[4]));
    fill_separated(h.x, h.in_count, 5, 0.05f); /* where the gradient is not tiny */
    for (size_t i = 0; i < h.in_count; i++)
        h.x[i] *= 0.5f;
    harness_forward(&h);
    harness_check_all(&h, 1e-2f);
    h.x[0] = NAN;
    h.x[1] = INFINITY;
    h.x[2] = -INFINITY;
    harness_forward(&h);
    ck_assert(isnan(h.y[0]));
    ck_assert_float_eq(h.y[1], 1.0f);
    ck_assert_float_eq(h.y[2], -1.0f);
    harness_free(&h);
}
END_TEST

static void make_lrn(harness *h, int size)
{
    memset(h, 0, sizeof *h);
    h->l.ops = &lrn_ops;
    strcpy(h->l.name, "lrn");
    h->l.lrn.size = size;
    h->l.lrn.alpha = 5e-4f * 400; /* large enough that the normalisation matters */
    h->l.lrn.beta = 0.75f;
    h->l.lrn.k = 2.0f;
}

START_TEST(lrn_matches_pytorch_formula_and_finite_differences)
{
    /* Window sizes odd and even; the last shape is split into several row blocks per image. */
    const int sizes[] = {5, 4, 3, 5};
    const shape shapes[] = {{7, 3, 4}, {7, 3, 4}, {7, 3, 4}, {4, 700, 3}};
    harness h;
    make_lrn(&h, sizes[_i]);
    harness_setup(&h, shapes[_i], 2, 2);
    fill_uniform(h.x, h.in_count, 6, -2.0f, 2.0f);
    harness_forward(&h);
    const int n = h.l.lrn.size, C = h.in.c, plane = h.in.h * h.in.w;
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < plane; p++) {
                double sum = 0.0; /* PyTorch pads size/2 before and (size-1)/2 after */
                for (int cc = c - n / 2; cc <= c + (n - 1) / 2; cc++)
                    if (cc >= 0 && cc < C) {
                        double v = h.x[(b * C + cc) * plane + p];
                        sum += v * v;
                    }
                double want = h.x[(b * C + c) * plane + p] /
                              pow(h.l.lrn.k + h.l.lrn.alpha / n * sum, h.l.lrn.beta);
                ck_assert_double_eq_tol(h.y[(b * C + c) * plane + p], want, 1e-5);
            }
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}
END_TEST

/* After a ReLU, LRN's backward applies the ReLU's mask itself: the gradient it writes is the
 * unmasked one where the input is positive and exactly zero elsewhere. */
START_TEST(lrn_applies_the_relu_mask_it_takes_over)
{
    harness h;
    make_lrn(&h, 5);
    harness_setup(&h, (shape){9, 5, 6}, 3, 2);
    size_t zeros = 0;
    for (size_t i = 0; i < h.in_count; i++) { /* a ReLU's output: zeros and positives */
        h.x[i] = h.x[i] > 0.0f ? h.x[i] : 0.0f;
        zeros += h.x[i] == 0.0f;
    }
    ck_assert_uint_gt(zeros, h.in_count / 4);
    harness_backward(&h);
    float *unmasked = memory_alloc_floats(h.in_count);
    memcpy(unmasked, h.dx, sizeof(float) * h.in_count);
    h.l.lrn.masks_relu = true;
    harness_backward(&h);
    for (size_t i = 0; i < h.in_count; i++) {
        ck_assert_msg(unmasked[i] != 0.0f, "dx[%zu] is zero unmasked", i);
        ck_assert_float_eq(h.dx[i], h.x[i] > 0.0f ? unmasked[i] : 0.0f);
    }
    memory_free(unmasked);
    harness_free(&h);
}
END_TEST

/* The paper's overlapping pooling: 3x3 windows at stride 2. */
static void make_maxpool(harness *h)
{
    memset(h, 0, sizeof *h);
    h->l.ops = &maxpool_ops;
    strcpy(h->l.name, "pool");
    h->l.pool.kernel = 3;
    h->l.pool.stride = 2;
}

/* Each output is its window's maximum, and gradients go to it. Small planes are pooled as a whole,
 * planes with rows of 32 outputs and more row by row: both are checked. */
static void check_maxpool(int H, int W)
{
    harness h;
    make_maxpool(&h);
    harness_setup(&h, (shape){2, H, W}, 3, 2);
    const int OH = (H - 3) / 2 + 1, OW = (W - 3) / 2 + 1;
    ck_assert_int_eq(h.out.h, OH);
    ck_assert_int_eq(h.out.w, OW);
    fill_separated(h.x, h.in_count, 7, 0.05f);
    harness_forward(&h);
    for (int p = 0; p < 6; p++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float best = -INFINITY;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        best = fmaxf(best, h.x[(p * H + oy * 2 + i) * W + ox * 2 + j]);
                ck_assert_float_eq(h.y[(p * OH + oy) * OW + ox], best);
            }
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}

START_TEST(maxpool_takes_window_maximum_and_routes_gradient)
{
    check_maxpool(9, 8);  /* 4 x 3 outputs */
    check_maxpool(7, 71); /* 3 x 35 */
}
END_TEST

/* Every path (whole small planes of the paper's 3x3 / 2 windows, odd and even widths; rows of 32
 * outputs and more) against a scan of each window in row-major order with PyTorch's rule, on data
 * with many ties and some NaNs: the same maxima, and each gradient routed to the same element. */
START_TEST(maxpool_paths_pick_the_scans_winners)
{
    static const int SIZES[][2] = {{28, 28}, {13, 13}, {27, 27}, {6, 6}, {7, 9},
                                   {3, 40},  {5, 3},   {55, 55}, {9, 70}};
    for (size_t c = 0; c < sizeof SIZES / sizeof SIZES[0]; c++) {
        const int H = SIZES[c][0], W = SIZES[c][1];
        harness h;
        make_maxpool(&h);
        harness_setup(&h, (shape){2, H, W}, 3, 1 + (int)(c % 3));
        for (size_t i = 0; i < h.in_count; i++) { /* 5 levels: ties everywhere; 1% NaN */
            const double u = rng_uniform(31, c, i);
            h.x[i] = u < 0.01 ? NAN : (float)(int)(u * 5.0);
        }
        harness_backward(&h);
        const int OH = h.out.h, OW = h.out.w;
        double *dx = calloc(h.in_count, sizeof(double));
        for (int p = 0; p < 6; p++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    size_t best = (size_t)-1;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            const size_t at = ((size_t)p * H + oy * 2 + i) * W + ox * 2 + j;
                            if (best == (size_t)-1 || h.x[at] > h.x[best] || isnan(h.x[at]))
                                best = at;
                        }
                    const size_t o = ((size_t)p * OH + oy) * OW + ox;
                    ck_assert_msg(isnan(h.x[best]) ? isnan(h.y[o]) : h.y[o] == h.x[best],
                                  "%dx%d: output %zu is %g, expected %g", H, W, o, h.y[o],
                                  h.x[best]);
                    dx[best] += h.r[o];
                }
        for (size_t i = 0; i < h.in_count; i++)
            ck_assert_msg(fabs(h.dx[i] - dx[i]) <= 1e-6 * (1.0 + fabs(dx[i])),
                          "%dx%d: input gradient %zu is %g, expected %g", H, W, i, h.dx[i], dx[i]);
        free(dx);
        harness_free(&h);
    }
}
END_TEST

/* Caffe's rounding (PyTorch's ceil_mode): 8 rows give 4 outputs, the last window clipped to rows
 * 6 and 7; 9 columns give 4 either way. Gradients still go to each clipped window's maximum. */
START_TEST(maxpool_ceil_clips_the_last_window)
{
    harness h;
    make_maxpool(&h);
    h.l.pool.ceil = 1;
    harness_setup(&h, (shape){2, 8, 9}, 2, 2);
    ck_assert_int_eq(h.out.h, 4);
    ck_assert_int_eq(h.out.w, 4);
    fill_separated(h.x, h.in_count, 11, 0.05f);
    harness_forward(&h);
    for (int p = 0; p < 4; p++)
        for (int oy = 0; oy < 4; oy++)
            for (int ox = 0; ox < 4; ox++) {
                float best = -INFINITY;
                for (int i = 0; i < 3 && oy * 2 + i < 8; i++)
                    for (int j = 0; j < 3 && ox * 2 + j < 9; j++)
                        best = fmaxf(best, h.x[p * 72 + (oy * 2 + i) * 9 + ox * 2 + j]);
                ck_assert_float_eq(h.y[p * 16 + oy * 4 + ox], best);
            }
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}
END_TEST

START_TEST(maxpool_ties_go_to_first_maximum)
{
    harness h;
    make_maxpool(&h);
    harness_setup(&h, (shape){1, 3, 3}, 1, 1);
    for (int i = 0; i < 9; i++)
        h.x[i] = 0.0f; /* after a ReLU, ties at zero are common */
    h.r[0] = 1.0f;
    harness_backward(&h);
    ck_assert_float_eq(h.dx[0], 1.0f);
    for (int i = 1; i < 9; i++)
        ck_assert_float_eq(h.dx[i], 0.0f);
    harness_free(&h);
}
END_TEST

/* PyTorch's rule: an element wins if it is greater than the maximum so far or NaN, so a NaN wins
 * over every number and the last NaN of a window over earlier ones. */
START_TEST(maxpool_nan_wins_as_in_pytorch)
{
    harness h;
    make_maxpool(&h);
    harness_setup(&h, (shape){1, 3, 5}, 1, 1); /* two windows, sharing column 2 */
    for (int i = 0; i < 15; i++)
        h.x[i] = (float)i;
    h.x[5] = NAN;  /* window 0 only: a NaN among larger numbers */
    h.x[7] = NAN;  /* both windows: the later NaN of window 0, the first of window 1 */
    h.x[13] = NAN; /* window 1: a later NaN still */
    h.r[0] = 1.0f;
    h.r[1] = 2.0f;
    harness_backward(&h);
    ck_assert(isnan(h.y[0]) && isnan(h.y[1]));
    for (int i = 0; i < 15; i++)
        ck_assert_float_eq(h.dx[i], i == 7 ? 1.0f : i == 13 ? 2.0f : 0.0f);
    harness_free(&h);
}
END_TEST

/* PyTorch's bins, written out: [floor(i*in/out), ceil((i+1)*in/out)). */
static void adaptive_reference(const harness *h, double *out)
{
    for (int p = 0; p < h->batch * h->in.c; p++)
        for (int oy = 0; oy < h->out.h; oy++)
            for (int ox = 0; ox < h->out.w; ox++) {
                int y0 = (int)floor((double)oy * h->in.h / h->out.h);
                int y1 = (int)ceil((double)(oy + 1) * h->in.h / h->out.h);
                int x0 = (int)floor((double)ox * h->in.w / h->out.w);
                int x1 = (int)ceil((double)(ox + 1) * h->in.w / h->out.w);
                double sum = 0.0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        sum += h->x[(size_t)p * h->in.h * h->in.w + y * h->in.w + x];
                out[(size_t)p * h->out.h * h->out.w + oy * h->out.w + ox] =
                    sum / ((y1 - y0) * (x1 - x0));
            }
}

START_TEST(adaptive_avgpool_matches_pytorch_bins)
{
    const shape inputs[] = {{3, 13, 13}, {2, 6, 6}, {2, 5, 3}, {2, 1, 1}, {1, 7, 15}};
    harness h;
    memset(&h, 0, sizeof h);
    h.l.ops = &adaptive_avgpool_ops;
    strcpy(h.l.name, "avgpool");
    h.l.adaptive.out_h = h.l.adaptive.out_w = 6;
    harness_setup(&h, inputs[_i], 2, 2);
    double *want = malloc(sizeof(double) * h.out_count);
    adaptive_reference(&h, want);
    harness_forward(&h);
    assert_close(h.y, want, h.out_count, 1e-6, "avgpool output");
    free(want);
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}
END_TEST

START_TEST(linear_matches_matrix_product_and_finite_differences)
{
    const int parts[] = {1, 2, 3};
    harness h;
    memset(&h, 0, sizeof h);
    h.l.ops = &linear_ops;
    strcpy(h.l.name, "fc");
    h.l.linear.in_features = 2 * 3 * 5;
    h.l.linear.out_features = 37; /* not a multiple of the 16-column blocks */
    harness_setup(&h, (shape){2, 3, 5}, 4, parts[_i]);
    harness_forward(&h);
    for (int n = 0; n < 4; n++)
        for (int o = 0; o < 37; o++) {
            double sum = h.b[o];
            for (int i = 0; i < 30; i++)
                sum += (double)h.w[o * 30 + i] * h.x[n * 30 + i];
            ck_assert_double_eq_tol(h.y[n * 37 + o], sum, 1e-5);
        }
    harness_check_all(&h, 1e-2f);
    harness_free(&h);
}
END_TEST

static void make_dropout(harness *h, float p)
{
    memset(h, 0, sizeof *h);
    h->l.ops = &dropout_ops;
    strcpy(h->l.name, "drop");
    h->l.index = 3;
    h->l.dropout.p = p;
}

START_TEST(dropout_keeps_the_expected_fraction_scaled)
{
    harness h;
    make_dropout(&h, 0.5f);
    harness_setup(&h, (shape){1000, 1, 1}, 20, 2);
    for (size_t i = 0; i < h.in_count; i++)
        h.x[i] = 1.0f;
    harness_forward(&h);
    size_t kept = 0;
    for (size_t i = 0; i < h.out_count; i++) {
        ck_assert(h.y[i] == 0.0f || h.y[i] == 2.0f);
        kept += h.y[i] != 0.0f;
    }
    /* 20000 draws at p = 0.5: the count is within 5 sigma (354) of 10000. */
    ck_assert_msg(kept > 9646 && kept < 10354, "kept %zu of 20000", kept);
    harness_check_all(&h, 1e-2f);
    h.training = false;
    harness_forward(&h);
    for (size_t i = 0; i < h.out_count; i++)
        ck_assert_float_eq(h.y[i], h.x[i]);
    harness_free(&h);
}
END_TEST

START_TEST(dropout_mask_depends_on_seed_and_step_not_on_split)
{
    harness a, b;
    make_dropout(&a, 0.3f);
    make_dropout(&b, 0.3f);
    harness_setup(&a, (shape){333, 1, 1}, 3, 1);
    harness_setup(&b, (shape){333, 1, 1}, 3, 4);
    harness_forward(&a);
    harness_forward(&b);
    ck_assert_mem_eq(a.y, b.y, sizeof(float) * a.out_count);
    b.step = 1;
    harness_forward(&b);
    ck_assert_int_ne(memcmp(a.y, b.y, sizeof(float) * a.out_count), 0);
    b.step = 0;
    b.seed = 78; /* the same step with another seed: another mask */
    harness_forward(&b);
    ck_assert_int_ne(memcmp(a.y, b.y, sizeof(float) * a.out_count), 0);
    b.seed = a.seed;
    harness_forward(&b);
    ck_assert_mem_eq(a.y, b.y, sizeof(float) * a.out_count);
    harness_free(&a);
    harness_free(&b);
}
END_TEST

START_TEST(softmax_cross_entropy_matches_formula_and_finite_differences)
{
    enum { N = 3, C = 5 };
    float z[N * C], d[N * C], scratch[N * C];
    int32_t labels[N] = {4, 0, 2};
    fill_uniform(z, N * C, 8, -3.0f, 3.0f);
    double loss = softmax_cross_entropy(z, labels, N, C, d);
    double want = 0.0;
    for (int n = 0; n < N; n++) {
        double sum = 0.0;
        for (int c = 0; c < C; c++)
            sum += exp(z[n * C + c]);
        want += -(z[n * C + labels[n]] - log(sum)) / N;
    }
    ck_assert_double_eq_tol(loss, want, 1e-6);
    for (int i = 0; i < N * C; i++) {
        float saved = z[i];
        z[i] = saved + 1e-3f;
        double plus = softmax_cross_entropy(z, labels, N, C, scratch);
        z[i] = saved - 1e-3f;
        double minus = softmax_cross_entropy(z, labels, N, C, scratch);
        z[i] = saved;
        ck_assert_double_eq_tol(d[i], (plus - minus) / 2e-3, 1e-4);
    }
    /* Large logits do not overflow. */
    z[0] = 1e4f;
    ck_assert(isfinite(softmax_cross_entropy(z, labels, N, C, d)));
}
END_TEST

START_TEST(rng_matches_philox_known_answers)
{
    /* Random123's known-answer vectors for philox4x32-10. */
    uint32_t out[4];
    rng_bits(0, 0, 0, out);
    ck_assert_uint_eq(out[0], 0x6627e8d5u);
    ck_assert_uint_eq(out[1], 0xe169c58du);
    ck_assert_uint_eq(out[2], 0xbc57ac4cu);
    ck_assert_uint_eq(out[3], 0x9b00dbd8u);
    rng_bits(0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, out);
    ck_assert_uint_eq(out[0], 0x408f276du);
    ck_assert_uint_eq(out[1], 0x41c83b0eu);
    ck_assert_uint_eq(out[2], 0xa20bc7c6u);
    ck_assert_uint_eq(out[3], 0x6d5451fdu);
    rng_bits(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull, out);
    ck_assert_uint_eq(out[0], 0xd16cfe09u);
    ck_assert_uint_eq(out[1], 0x94fdccebu);
    ck_assert_uint_eq(out[2], 0x5001e420u);
    ck_assert_uint_eq(out[3], 0x24126ea1u);
}
END_TEST

START_TEST(rng_normals_have_unit_variance)
{
    double sum = 0.0, squares = 0.0;
    const int n = 200000;
    for (int q = 0; q < n / 4; q++) {
        float z[4];
        rng_normal4(5, 6, (uint64_t)q, z);
        for (int r = 0; r < 4; r++) {
            sum += z[r];
            squares += (double)z[r] * z[r];
        }
    }
    ck_assert_double_eq_tol(sum / n, 0.0, 0.015);
    ck_assert_double_eq_tol(squares / n, 1.0, 0.015);
}
END_TEST

typedef struct count_job {
    int64_t seen[PARALLEL_MAX_PARTS];
} count_job;

static void count_items(void *ctx, int64_t begin, int64_t end, int part)
{
    count_job *job = ctx;
    job->seen[part] += end - begin;
}

START_TEST(parallel_run_covers_every_item_once)
{
    for (int parts = 1; parts <= 7; parts++) {
        count_job job;
        memset(&job, 0, sizeof job);
        parallel_run(parts, 1001, count_items, &job);
        int64_t total = 0;
        for (int p = 0; p < parts; p++) {
            int64_t begin, end;
            parallel_range(1001, parts, p, &begin, &end);
            ck_assert_int_eq(job.seen[p], end - begin);
            total += job.seen[p];
        }
        ck_assert_int_eq(total, 1001);
    }
}
END_TEST

typedef struct claim_job {
    _Atomic int runs[1001];
    int parts;
    _Atomic int bad; /* items not single, or slots out of range */
} claim_job;

static void claim_items(void *ctx, int64_t begin, int64_t end, int slot)
{
    claim_job *job = ctx;
    if (end != begin + 1 || slot < 0 || slot >= job->parts)
        job->bad++;
    for (int64_t i = begin; i < end; i++)
        job->runs[i]++;
}

/* Balanced jobs: each item exactly once, one at a time, in a slot below the part count, with more
 * threads than parts too. */
START_TEST(parallel_run_balanced_runs_every_item_once)
{
    ck_assert_ok(alexnet_set_num_threads(3));
    for (int parts = 1; parts <= 3; parts++) {
        claim_job *job = calloc(1, sizeof *job);
        job->parts = parts;
        parallel_run_balanced(parts, 1001, claim_items, job);
        ck_assert_int_eq(job->bad, 0);
        for (int i = 0; i < 1001; i++)
            ck_assert_int_eq(job->runs[i], 1);
        free(job);
    }
    ck_assert_ok(alexnet_set_num_threads(0));
}
END_TEST

typedef struct steal_job {
    _Atomic int slot_of[100]; /* the slot that ran each item, -1 before */
    int parts;
} steal_job;

/* Slot 1 is slow, so that the others finish their own ranges first and help with its range. */
static void record_slots(void *ctx, int64_t begin, int64_t end, int slot)
{
    steal_job *job = ctx;
    for (int64_t i = begin; i < end; i++)
        job->slot_of[i] = slot;
    struct timespec pause = {0, slot == 1 ? 2000000 : 100000};
    nanosleep(&pause, NULL);
}

/* Each part's range is run from its front by the thread parallel_run gives it (part p on thread p
 * here) and from its back by the threads that finished theirs: whatever the timing, the items its
 * own thread ran are a prefix of the range. The slow slot's range is shared. */
START_TEST(parallel_run_balanced_starts_each_thread_on_its_own_range)
{
    ck_assert_ok(alexnet_set_num_threads(3));
    for (int parts = 2; parts <= 3; parts++) {
        steal_job *job = calloc(1, sizeof *job);
        for (int i = 0; i < 100; i++)
            job->slot_of[i] = -1;
        job->parts = parts;
        parallel_run_balanced(parts, 100, record_slots, job);
        int helped = 0;
        for (int part = 0; part < parts; part++) {
            int64_t begin, end;
            parallel_range(100, parts, part, &begin, &end);
            int64_t i = begin;
            while (i < end && job->slot_of[i] == part)
                i++;
            for (; i < end; i++) {
                ck_assert_int_ge(job->slot_of[i], 0);
                ck_assert_int_lt(job->slot_of[i], parts);
                ck_assert_int_ne(job->slot_of[i], part);
                helped += part == 1;
            }
        }
        ck_assert_int_gt(helped, 0);
        free(job);
    }
    ck_assert_ok(alexnet_set_num_threads(0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, conv_matches_direct_convolution_and_finite_differences, 0,
                        (int)(sizeof CONV_CASES / sizeof CONV_CASES[0]));
    tcase_add_test(tc, conv_gives_same_result_for_any_split);
    tcase_add_test(tc, conv_backward_skips_input_gradient_when_not_needed);
    tcase_add_loop_test(tc, conv_applies_the_relu_it_takes_over, 0, 5);
    tcase_add_test(tc, relu_clamps_and_passes_gradient_where_positive);
    tcase_add_test(tc, tanh_matches_libm_and_finite_differences);
    tcase_add_loop_test(tc, lrn_matches_pytorch_formula_and_finite_differences, 0, 4);
    tcase_add_test(tc, lrn_applies_the_relu_mask_it_takes_over);
    tcase_add_test(tc, maxpool_takes_window_maximum_and_routes_gradient);
    tcase_add_test(tc, maxpool_paths_pick_the_scans_winners);
    tcase_add_test(tc, maxpool_ceil_clips_the_last_window);
    tcase_add_test(tc, maxpool_ties_go_to_first_maximum);
    tcase_add_test(tc, maxpool_nan_wins_as_in_pytorch);
    tcase_add_loop_test(tc, adaptive_avgpool_matches_pytorch_bins, 0, 5);
    tcase_add_loop_test(tc, linear_matches_matrix_product_and_finite_differences, 0, 3);
    tcase_add_test(tc, dropout_keeps_the_expected_fraction_scaled);
    tcase_add_test(tc, dropout_mask_depends_on_seed_and_step_not_on_split);
    tcase_add_test(tc, softmax_cross_entropy_matches_formula_and_finite_differences);
    tcase_add_test(tc, rng_matches_philox_known_answers);
    tcase_add_test(tc, rng_normals_have_unit_variance);
    tcase_add_test(tc, parallel_run_covers_every_item_once);
    tcase_add_test(tc, parallel_run_balanced_runs_every_item_once);
    tcase_add_test(tc, parallel_run_balanced_starts_each_thread_on_its_own_range);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
