/* The direct convolution of single-channel groups (lib/conv_plane.c), which conv.c runs for 3x3
 * stride-1 layers with padding 1 and one input channel per group (MINI's conv1 on grey images).
 * It reads each plane as one flat vector, with the columns that a row's left and right taps would
 * wrap onto zeroed in the copies those taps read: the cases below put that at every place it can
 * go wrong (one-row and one-column planes, planes shorter than a vector block, remainders, channel
 * counts that are not multiples of the blocks, several groups, batches smaller than the parts). */
#include "conv_reference.h"
#include "test_helpers.h"

#include "conv_plane.h"

static bool plane_path(const layer *l, shape in)
{
    (void)in;
    return conv_plane_applies(l);
}

static const conv_case CASES[] = {
    {1, 32, 3, 1, 1, 1, 28, 28, 5, 2}, /* MINI's conv1: 49 whole blocks of 16, 4 channel blocks */
    {1, 6, 3, 1, 1, 1, 9, 11, 3, 2},   /* 99 outputs: a partial last block; 4 + 2 channels     */
    {1, 5, 3, 1, 1, 1, 5, 7, 1, 3},    /* a plane shorter than two blocks; one image, 3 parts   */
    {2, 10, 3, 1, 1, 2, 6, 7, 3, 2},   /* two groups of one channel, five filters each          */
    {3, 9, 3, 1, 1, 3, 4, 4, 2, 1},    /* three groups; a 4x4 plane: one exact block            */
    {1, 3, 3, 1, 1, 1, 1, 20, 2, 2},   /* one row: every tap above and below reads the border   */
    {1, 3, 3, 1, 1, 1, 19, 1, 2, 2},   /* one column: both of its sides are zeroed              */
    {1, 1, 3, 1, 1, 1, 2, 2, 1, 1},    /* the smallest: one filter on a 2x2 plane               */
};

/* In units of FLT_EPSILON, relative to the sum of the magnitudes of the terms: a direct sum of 9
 * products per output, and of the whole batch's per weight. Measured: under 8 (2 fails). */
static const double PLANE_BOUND = 32;

START_TEST(layer_matches_direct_convolution_in_value_and_gradients)
{
    check_conv_case(&CASES[_i], 0.0, plane_path, PLANE_BOUND);
}
END_TEST

START_TEST(layer_stays_within_the_bound_over_a_wide_dynamic_range)
{
    check_conv_case(&CASES[_i], 3.0, plane_path, PLANE_BOUND);
}
END_TEST

/* Sums over images are formed per part, then added in part order: results may differ in the last
 * bits between splits, but not more than rounding, and the output not at all. */
START_TEST(any_split_gives_the_same_output_and_close_gradients)
{
    harness a, b;
    make_conv(&a, 1, 12, 3, 1, 1, 1);
    make_conv(&b, 1, 12, 3, 1, 1, 1);
    harness_setup(&a, (shape){1, 13, 17}, 7, 1);
    harness_setup(&b, (shape){1, 13, 17}, 7, 3);
    harness_backward(&a);
    harness_backward(&b);
    ck_assert_mem_eq(a.y, b.y, sizeof(float) * a.out_count);
    ck_assert_mem_eq(a.dx, b.dx, sizeof(float) * a.in_count);
    for (size_t i = 0; i < a.w_count; i++)
        ck_assert_float_eq_tol(a.dw[i], b.dw[i], 1e-4f * (1.0f + fabsf(a.dw[i])));
    for (size_t i = 0; i < a.b_count; i++)
        ck_assert_float_eq_tol(a.db[i], b.db[i], 1e-4f * (1.0f + fabsf(a.db[i])));
    harness_free(&a);
    harness_free(&b);
}
END_TEST

/* The first layer needs no input gradient: without one, the weight and bias gradients are the
 * same bit for bit. */
START_TEST(backward_without_input_gradient_gives_the_same_weight_gradient)
{
    harness h;
    make_conv(&h, 1, 8, 3, 1, 1, 1);
    harness_setup(&h, (shape){1, 10, 10}, 4, 2);
    harness_backward(&h);
    float *dw = malloc(sizeof(float) * h.w_count), *db = malloc(sizeof(float) * h.b_count);
    memcpy(dw, h.dw, sizeof(float) * h.w_count);
    memcpy(db, h.db, sizeof(float) * h.b_count);
    layer_call call = harness_call(&h);
    call.dout = h.r;
    call.din = NULL;
    h.l.ops->backward(&h.l, &call);
    ck_assert_mem_eq(h.dw, dw, sizeof(float) * h.w_count);
    ck_assert_mem_eq(h.db, db, sizeof(float) * h.b_count);
    free(dw);
    free(db);
    harness_free(&h);
}
END_TEST

START_TEST(applies_only_to_3x3_stride_1_same_padding_with_one_channel_per_group)
{
    harness h;
    make_conv(&h, 1, 32, 3, 1, 1, 1);
    ck_assert(conv_plane_applies(&h.l));
    make_conv(&h, 4, 8, 3, 1, 1, 4);
    ck_assert(conv_plane_applies(&h.l));
    make_conv(&h, 2, 8, 3, 1, 1, 1); /* two channels per group */
    ck_assert(!conv_plane_applies(&h.l));
    make_conv(&h, 1, 8, 5, 1, 2, 1);
    ck_assert(!conv_plane_applies(&h.l));
    make_conv(&h, 1, 8, 3, 2, 1, 1);
    ck_assert(!conv_plane_applies(&h.l));
    make_conv(&h, 1, 8, 3, 1, 0, 1);
    ck_assert(!conv_plane_applies(&h.l));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_plane");
    TCase *tc = tcase_create("core");
    const int cases = (int)(sizeof CASES / sizeof CASES[0]);
    tcase_add_loop_test(tc, layer_matches_direct_convolution_in_value_and_gradients, 0, cases);
    tcase_add_loop_test(tc, layer_stays_within_the_bound_over_a_wide_dynamic_range, 0, cases);
    tcase_add_test(tc, any_split_gives_the_same_output_and_close_gradients);
    tcase_add_test(tc, backward_without_input_gradient_gives_the_same_weight_gradient);
    tcase_add_test(tc, applies_only_to_3x3_stride_1_same_padding_with_one_channel_per_group);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
