/* Winograd convolution (lib/winograd.c), F(4x4, 3x3) and F(3x3, 3x3), which conv.c runs for 3x3
 * stride-1 layers with 16 or more input channels per group, and for 5x5 and 11x11 / 4 layers as
 * 3x3 convolutions of their input's phases. The layer is linear in each of its operands, so its
 * output and all three gradients are checked against a direct convolution in double, with an
 * error bound relative to the sum of the magnitudes of the terms (what floating-point error is
 * proportional to), also with magnitudes spread over many orders, where the transforms'
 * cancellation would show. */
#include "conv_reference.h"
#include "test_helpers.h"

#include "winograd.h"

/* One tile under one filter, against direct correlation, for F(4x4, 3x3) (_i = 0) and F(3x3, 3x3)
 * (_i = 1). Each output is computed from all (m + 2)^2 values of its tile (the ones outside its
 * own window cancel exactly in exact arithmetic, and to rounding error in floating point), with
 * transform coefficients up to 25, so its error is bounded relative to the tile's largest value
 * times the sum of |g|, not to its own window's terms as a direct convolution's is. With
 * magnitudes over eight decades in a tile that is a real difference (an output next to a value
 * 10^8 times its own can lose every digit), and the bound below is what a user can count on. */
START_TEST(tile_error_is_bounded_by_the_tile_over_a_wide_dynamic_range)
{
    const int m = _i == 0 ? 4 : 3, t = m + 2;
    double worst = 0.0;
    for (uint64_t trial = 0; trial < 4000; trial++) {
        float d[36], g[9], y[16];
        for (int i = 0; i < t * t; i++)
            d[i] = wide(trial, (uint64_t)i, 4.0);
        for (int i = 0; i < 9; i++)
            g[i] = wide(trial, 100 + (uint64_t)i, 3.0);
        winograd_tile(m, d, g, y);
        double dmax = 0.0, gsum = 0.0;
        for (int i = 0; i < t * t; i++)
            dmax = fmax(dmax, fabs(d[i]));
        for (int i = 0; i < 9; i++)
            gsum += fabs(g[i]);
        for (int oy = 0; oy < m; oy++)
            for (int ox = 0; ox < m; ox++) {
                double exact = 0.0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        exact += (double)d[(oy + i) * t + ox + j] * g[i * 3 + j];
                worst = fmax(worst, fabs(y[oy * m + ox] - exact) / (dmax * gsum));
            }
    }
    /* Measured: 34 epsilon for F(4x4, 3x3), 11 for F(3x3, 3x3). */
    ck_assert_msg(worst < 200 * FLT_EPSILON, "F(%dx%d): worst error %.3g of max |d| sum |g|", m, m,
                  worst);
    /* A bound that held only because every error was zero would prove nothing. */
    ck_assert(worst > 0.0);
}
END_TEST

static const conv_case CASES[] = {
    {16, 8, 3, 1, 1, 1, 7, 7, 3, 2},    /* 7x7 output: partial tiles right and below       */
    {32, 12, 3, 1, 1, 2, 13, 13, 2, 1}, /* groups; AlexNet's 13x13 maps                     */
    {16, 5, 3, 1, 0, 1, 9, 6, 5, 3},    /* no padding, a non-square 7x4 output, three parts */
    {16, 4, 3, 1, 2, 1, 7, 7, 1, 2},    /* wider padding; a batch smaller than the parts     */
    {16, 4, 3, 1, 1, 1, 28, 28, 9, 2},  /* several chunks in each part                      */
    /* Strided layers, as 3x3 convolutions of their input's phases: */
    {3, 16, 11, 4, 2, 1, 35, 35, 2, 2}, /* torchvision's conv1 (11x11 / 4, padding 2)         */
    {3, 8, 11, 4, 0, 1, 27, 30, 3, 2},  /* the paper's (no padding); columns past the last
                                           window, which get no gradient                     */
    {8, 6, 5, 2, 1, 2, 15, 12, 2, 1},   /* 5x5 / 2 with groups: filters padded to 6x6         */
    /* 5x5 and 6x6 at stride 1, as four 3x3 convolutions of shifted inputs: */
    {8, 12, 5, 1, 2, 2, 13, 13, 3, 2}, /* AlexNet's grouped conv2 on 13x13 maps               */
    {4, 6, 6, 1, 1, 1, 11, 9, 2, 2},   /* 6x6, no tap padded                                 */
    {4, 5, 5, 1, 0, 1, 8, 12, 1, 1},   /* no padding: a 4x8 output                           */
    /* F(3x3, 3x3), on the maps where it wastes less than F(4x4, 3x3): */
    {32, 16, 3, 1, 1, 1, 6, 6, 5, 2}, /* MINI's conv3-5 on 6x6 maps: four whole tiles     */
    {32, 8, 3, 1, 1, 2, 7, 9, 2, 2},  /* groups; 7x9: partial tiles right and below        */
};

/* In units of FLT_EPSILON. Measured: up to 94 for outputs, 66 for input gradients, 10 for weight
 * gradients. */
static const double WINOGRAD_BOUND = 500;

START_TEST(layer_matches_direct_convolution_in_value_and_gradients)
{
    check_conv_case(&CASES[_i], 0.0, winograd_applies, WINOGRAD_BOUND);
}
END_TEST

START_TEST(layer_stays_within_the_bound_over_a_wide_dynamic_range)
{
    check_conv_case(&CASES[_i], 3.0, winograd_applies, WINOGRAD_BOUND);
}
END_TEST

/* Inference on fewer images than parts takes im2col + GEMM (split inside the image); training
 * takes Winograd. Both must give the same convolution, each within its own error bound. */
START_TEST(winograd_and_im2col_paths_agree)
{
    harness h;
    make_conv(&h, 32, 16, 3, 1, 1, 1);
    harness_setup(&h, (shape){32, 13, 13}, 1, 2);
    harness_forward(&h);
    float *winograd = malloc(sizeof(float) * h.out_count);
    memcpy(winograd, h.y, sizeof(float) * h.out_count);
    h.training = false;
    harness_forward(&h);
    double *want = malloc(sizeof(double) * h.out_count),
           *terms = malloc(sizeof(double) * h.out_count);
    conv_reference(&h, want);
    output_terms(&h, terms);
    assert_within_terms(h.y, want, terms, h.out_count, 50 * FLT_EPSILON, "im2col output");
    assert_within_terms(winograd, want, terms, h.out_count, 500 * FLT_EPSILON, "Winograd output");
    free(winograd);
    free(want);
    free(terms);
    harness_free(&h);
}
END_TEST

/* The first layer needs no input gradient: the weight and bias gradients must not depend on it. */
START_TEST(backward_without_input_gradient_gives_the_same_weight_gradient)
{
    harness h;
    make_conv(&h, 16, 8, 3, 1, 1, 1);
    harness_setup(&h, (shape){16, 9, 9}, 3, 2);
    harness_backward(&h);
    float *dw = malloc(sizeof(float) * h.w_count);
    memcpy(dw, h.dw, sizeof(float) * h.w_count);
    layer_call call = harness_call(&h);
    call.dout = h.r;
    call.din = NULL;
    h.l.ops->backward(&h.l, &call);
    ck_assert_mem_eq(h.dw, dw, sizeof(float) * h.w_count);
    free(dw);
    harness_free(&h);
}
END_TEST

/* Small channel counts and other kernels stay on im2col + GEMM. */
START_TEST(applies_only_to_3x3_stride_1_with_enough_channels)
{
    harness h;
    const shape small = {32, 13, 13};
    make_conv(&h, 16, 8, 3, 1, 1, 1);
    ck_assert(winograd_applies(&h.l, (shape){16, 13, 13}));
    make_conv(&h, 8, 8, 3, 1, 1, 1);
    ck_assert(!winograd_applies(&h.l, (shape){8, 13, 13}));
    make_conv(&h, 32, 8, 3, 1, 1, 2);
    ck_assert(winograd_applies(&h.l, small));
    make_conv(&h, 32, 8, 3, 2, 1, 1);
    ck_assert(!winograd_applies(&h.l, small));
    /* 5x5 and 6x6 at stride 1, as 2x2 blocks of 3x3 taps (4x4 would gain nothing, 7x7 needs 3x3
     * blocks). */
    make_conv(&h, 32, 8, 5, 1, 2, 1);
    ck_assert(winograd_applies(&h.l, small));
    make_conv(&h, 4, 8, 6, 1, 2, 1);
    ck_assert(winograd_applies(&h.l, (shape){4, 13, 13}));
    make_conv(&h, 2, 8, 5, 1, 2, 1);
    ck_assert(!winograd_applies(&h.l, (shape){2, 13, 13})); /* 8 phase channels */
    make_conv(&h, 32, 8, 4, 1, 2, 1);
    ck_assert(!winograd_applies(&h.l, small));
    make_conv(&h, 32, 8, 7, 1, 3, 1);
    ck_assert(!winograd_applies(&h.l, small));
    /* Strided layers whose kernel spans three strides (2s < k <= 3s), with enough channels in
     * their phases. */
    make_conv(&h, 3, 64, 11, 4, 2, 1);
    ck_assert(winograd_applies(&h.l, (shape){3, 224, 224}));
    make_conv(&h, 1, 8, 11, 4, 0, 1);
    ck_assert(winograd_applies(&h.l, (shape){1, 64, 64}));
    make_conv(&h, 4, 8, 5, 2, 1, 1);
    ck_assert(winograd_applies(&h.l, (shape){4, 15, 15}));
    make_conv(&h, 3, 8, 5, 2, 1, 1);
    ck_assert(!winograd_applies(&h.l, (shape){3, 15, 15})); /* 12 phase channels */
    make_conv(&h, 3, 8, 7, 2, 1, 1);
    ck_assert(!winograd_applies(&h.l, (shape){3, 15, 15})); /* 7 > 3 * 2 */
    make_conv(&h, 3, 8, 8, 4, 0, 1);
    ck_assert(!winograd_applies(&h.l, (shape){3, 15, 15})); /* 8 <= 2 * 4 */
    make_conv(&h, 3, 8, 11, 4, 0, 1);
    ck_assert(!winograd_applies(&h.l, (shape){3, 10, 10})); /* smaller than the kernel */
    /* The tile: F(3x3, 3x3) where it spends fewer multiplications, F(4x4, 3x3) elsewhere. */
    make_conv(&h, 96, 96, 3, 1, 1, 1);
    ck_assert_int_eq(winograd_tile_side(&h.l, (shape){96, 6, 6}, (shape){96, 6, 6}), 3);
    ck_assert_int_eq(winograd_tile_side(&h.l, (shape){96, 9, 9}, (shape){96, 9, 9}), 3);
    ck_assert_int_eq(winograd_tile_side(&h.l, (shape){96, 13, 13}, (shape){96, 13, 13}), 4);
    ck_assert_int_eq(winograd_tile_side(&h.l, (shape){96, 8, 8}, (shape){96, 8, 8}), 4);
    make_conv(&h, 3, 8, 11, 4, 0, 1); /* phases keep F(4x4, 3x3) */
    ck_assert_int_eq(winograd_tile_side(&h.l, (shape){3, 27, 27}, (shape){8, 5, 5}), 4);
    /* A chunk's offsets are 32-bit: an image of 2^31 floats and more takes im2col. */
    make_conv(&h, 32, 8, 3, 1, 1, 1);
    ck_assert(winograd_applies(&h.l, (shape){32, 8000, 8000}));
    ck_assert(!winograd_applies(&h.l, (shape){32, 8200, 8200}));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("winograd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, tile_error_is_bounded_by_the_tile_over_a_wide_dynamic_range, 0, 2);
    const int cases = (int)(sizeof CASES / sizeof CASES[0]);
    tcase_add_loop_test(tc, layer_matches_direct_convolution_in_value_and_gradients, 0, cases);
    tcase_add_loop_test(tc, layer_stays_within_the_bound_over_a_wide_dynamic_range, 0, cases);
    tcase_add_test(tc, winograd_and_im2col_paths_agree);
    tcase_add_test(tc, backward_without_input_gradient_gives_the_same_weight_gradient);
    tcase_add_test(tc, applies_only_to_3x3_stride_1_with_enough_channels);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
