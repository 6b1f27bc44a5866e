/* The optimizer: the paper's update rule, schedules, training steps, numeric safety and
 * determinism. (Parity with torch.optim.SGD is in tests/python/torch_parity.py.) */
#include "network_helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static alexnet_optimizer *sgd(alexnet_network *net, float lr, float momentum, float decay)
{
    alexnet_sgd_config cfg;
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.learning_rate = lr;
    cfg.momentum = momentum;
    cfg.weight_decay = decay;
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &cfg));
    return opt;
}

/* ||a - b|| / ||b|| over two flat buffers. */
static double relative_distance(const float *a, const float *b, int64_t n)
{
    double diff = 0.0, norm = 0.0;
    for (int64_t i = 0; i < n; i++) {
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    return sqrt(diff / norm);
}

/* Images [from, from + n) of a batch, as a tensor of their own. */
static alexnet_tensor *batch_slice(alexnet_tensor *x, int from, int n)
{
    const int64_t per = alexnet_tensor_numel(x) / alexnet_tensor_dim(x, 0);
    int64_t shape[4] = {n, alexnet_tensor_dim(x, 1), alexnet_tensor_dim(x, 2),
                        alexnet_tensor_dim(x, 3)};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 4, shape));
    memcpy(alexnet_tensor_data(t), alexnet_tensor_data(x) + from * per,
           sizeof(float) * (size_t)(n * per));
    return t;
}

/* The flat buffers are what data-parallel training moves: two networks that each run half a
 * batch (the second told where its half starts, so that it draws the whole batch's dropout) and
 * average their gradient buffers hold the gradient of the whole batch, and one optimizer step
 * then gives the weights the whole batch gives. */
START_TEST(param_buffers_carry_data_parallel_training)
{
    alexnet_network *whole = mini_network(28, 0.5f, 4), *left = mini_network(28, 0.5f, 4),
                    *right = mini_network(28, 0.5f, 4), *other = mini_network(28, 0.5f, 99);
    alexnet_tensor *values = NULL, *grads = NULL, *right_values = NULL, *right_grads = NULL;
    ck_assert_ok(alexnet_network_param_buffers(whole, &values, NULL));
    ck_assert_ok(alexnet_network_param_buffers(right, &right_values, &right_grads));
    const int64_t count = alexnet_tensor_numel(values);
    ck_assert_int_eq(alexnet_tensor_ndim(values), 1);
    ck_assert_int_eq(alexnet_tensor_numel(right_grads), count);
    /* Every parameter lies in the buffer, in order, without overlap. */
    const float *base = alexnet_tensor_data(values), *end_of_last = base;
    int64_t total = 0;
    for (int i = 0; i < alexnet_network_param_count(whole); i++) {
        alexnet_tensor *p = NULL;
        ck_assert_ok(alexnet_network_param(whole, alexnet_network_param_name(whole, i), &p, NULL));
        ck_assert(alexnet_tensor_data(p) >= end_of_last);
        end_of_last = alexnet_tensor_data(p) + alexnet_tensor_numel(p);
        total += alexnet_tensor_numel(p);
    }
    ck_assert(end_of_last <= base + count);
    ck_assert_int_lt(count - total, 16 * alexnet_network_param_count(whole));
    /* Setting every weight through the buffer: `other` becomes a copy of `whole` (a broadcast). */
    alexnet_tensor *other_values = NULL;
    ck_assert_ok(alexnet_network_param_buffers(other, &other_values, NULL));
    ck_assert(!same_weights(whole, other));
    memcpy(alexnet_tensor_data(other_values), base, sizeof(float) * (size_t)count);
    ck_assert(same_weights(whole, other));
    ck_assert(same_weights(whole, right));

    int32_t labels[8];
    alexnet_tensor *x = labelled_batch(8, 28, labels, 3), *x0 = batch_slice(x, 0, 4),
                   *x1 = batch_slice(x, 4, 4);
    int64_t logit_shape[2] = {8, 10};
    alexnet_tensor *y = NULL, *y0 = NULL, *y1 = NULL;
    ck_assert_ok(alexnet_tensor_create(&y, 2, logit_shape));
    logit_shape[0] = 4;
    ck_assert_ok(alexnet_tensor_create(&y0, 2, logit_shape));
    ck_assert_ok(alexnet_tensor_create(&y1, 2, logit_shape));
    float loss;
    ck_assert_ok(alexnet_network_forward(whole, x, y, 1));
    ck_assert_ok(alexnet_network_backward(whole, labels, &loss));
    ck_assert_ok(alexnet_network_forward(left, x0, y0, 1));
    ck_assert_ok(alexnet_network_backward(left, labels, &loss));
    ck_assert_ok(alexnet_network_set_first_sample(right, 4));
    ck_assert_ok(alexnet_network_forward(right, x1, y1, 1));
    /* The same dropout as the whole batch's: the same logits, row for row. */
    ck_assert_double_le(relative_distance(alexnet_tensor_data(y1), alexnet_tensor_data(y) + 40, 40),
                        1e-5);
    ck_assert_ok(alexnet_network_backward(right, labels + 4, &loss));
    ck_assert_ok(alexnet_network_param_buffers(whole, NULL, &grads));
    alexnet_tensor *left_grads = NULL;
    ck_assert_ok(alexnet_network_param_buffers(left, NULL, &left_grads));
    float *g = alexnet_tensor_data(left_grads);
    const float *g1 = alexnet_tensor_data(right_grads);
    for (int64_t i = 0; i < count; i++) /* what an allreduce and a division by 2 give */
        g[i] = 0.5f * (g[i] + g1[i]);
    ck_assert_double_le(relative_distance(g, alexnet_tensor_data(grads), count), 1e-5);

    alexnet_sgd_config sgd;
    ck_assert_ok(alexnet_sgd_config_init(&sgd));
    alexnet_optimizer *whole_opt = NULL, *left_opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&whole_opt, whole, &sgd));
    ck_assert_ok(alexnet_optimizer_create(&left_opt, left, &sgd));
    ck_assert_ok(alexnet_optimizer_step(whole_opt));
    ck_assert_ok(alexnet_optimizer_step(left_opt));
    alexnet_tensor *left_values = NULL;
    ck_assert_ok(alexnet_network_param_buffers(left, &left_values, NULL));
    ck_assert_double_le(
        relative_distance(alexnet_tensor_data(left_values), alexnet_tensor_data(values), count),
        1e-6);

    /* A share reads the buffer but cannot train. */
    alexnet_network *share = NULL;
    ck_assert_ok(alexnet_network_share(&share, whole));
    alexnet_tensor *shared = NULL;
    ck_assert_ok(alexnet_network_param_buffers(share, &shared, NULL));
    ck_assert_ptr_eq(alexnet_tensor_data(shared), alexnet_tensor_data(values));
    ck_assert_fails(alexnet_network_param_buffers(share, NULL, &grads), ALEXNET_ERR_STATE,
                    "alexnet_network_param_buffers");
    ck_assert_ptr_null(grads);
    ck_assert_fails(alexnet_network_param_buffers(NULL, &values, NULL),
                    ALEXNET_ERR_INVALID_ARGUMENT, "'net' is NULL");
    ck_assert_fails(alexnet_network_set_first_sample(right, -1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "first_sample -1 is outside 0..16777216");

    alexnet_network_free(share);
    alexnet_optimizer_free(whole_opt);
    alexnet_optimizer_free(left_opt);
    alexnet_tensor_free(x);
    alexnet_tensor_free(x0);
    alexnet_tensor_free(x1);
    alexnet_tensor_free(y);
    alexnet_tensor_free(y0);
    alexnet_tensor_free(y1);
    alexnet_network_free(whole);
    alexnet_network_free(left);
    alexnet_network_free(right);
    alexnet_network_free(other);
}
END_TEST

START_TEST(sgd_defaults_are_the_papers)
{
    alexnet_sgd_config cfg;
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    ck_assert_float_eq(cfg.learning_rate, 0.01f);
    ck_assert_float_eq(cfg.momentum, 0.9f);
    ck_assert_float_eq(cfg.weight_decay, 0.0005f);
    ck_assert_uint_eq(cfg.struct_size, sizeof cfg);
}
END_TEST

START_TEST(update_follows_the_papers_rule)
{
    alexnet_network *net = mini_network(15, 0.0f, 1);
    alexnet_optimizer *opt = sgd(net, 0.05f, 0.9f, 0.01f);
    int32_t labels[4];
    alexnet_tensor *x = labelled_batch(4, 15, labels, 1);
    alexnet_tensor *w = NULL, *g = NULL;
    ck_assert_ok(alexnet_network_param(net, "conv3.weight", &w, &g));
    const int64_t n = alexnet_tensor_numel(w);
    float *expected_w = malloc(sizeof(float) * (size_t)n);
    float *v = calloc((size_t)n, sizeof(float));
    memcpy(expected_w, alexnet_tensor_data(w), sizeof(float) * (size_t)n);
    for (int step = 0; step < 3; step++) {
        int64_t shape[2] = {4, 10};
        alexnet_tensor *y = NULL;
        ck_assert_ok(alexnet_tensor_create(&y, 2, shape));
        ck_assert_ok(alexnet_network_forward(net, x, y, 1));
        ck_assert_ok(alexnet_network_backward(net, labels, NULL));
        for (int64_t i = 0; i < n; i++) { /* v <- m v - wd lr w - lr g; w <- w + v */
            v[i] = 0.9f * v[i] - 0.01f * 0.05f * expected_w[i] - 0.05f * alexnet_tensor_data(g)[i];
            expected_w[i] = expected_w[i] + v[i];
        }
        ck_assert_ok(alexnet_optimizer_step(opt));
        for (int64_t i = 0; i < n; i++)
            ck_assert_float_eq_tol(alexnet_tensor_data(w)[i], expected_w[i],
                                   1e-6f * (1.0f + fabsf(expected_w[i])));
        alexnet_tensor_free(y);
    }
    ck_assert_int_eq(alexnet_optimizer_steps(opt), 3);
    free(expected_w);
    free(v);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(training_lowers_the_loss)
{
    alexnet_network *net = mini_network(28, 0.0f, 2);
    alexnet_optimizer *opt = sgd(net, 0.01f, 0.9f, 0.0005f);
    int32_t labels[32];
    alexnet_tensor *x = labelled_batch(32, 28, labels, 2);
    float first = 0.0f, loss = 0.0f;
    for (int step = 0; step < 60; step++) {
        ck_assert_ok(alexnet_train_step(net, opt, x, labels, &loss));
        if (step == 0)
            first = loss;
    }
    ck_assert_msg(loss < 0.3f * first, "loss went from %f to %f", first, loss);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(same_seed_gives_same_training)
{
    float losses[2][10];
    alexnet_network *nets[2];
    for (int run = 0; run < 2; run++) {
        nets[run] = mini_network(20, 0.5f, 77);
        alexnet_optimizer *opt = sgd(nets[run], 0.02f, 0.9f, 0.0005f);
        for (int step = 0; step < 10; step++) {
            int32_t labels[8];
            alexnet_tensor *x = labelled_batch(8, 20, labels, (uint64_t)step);
            ck_assert_ok(alexnet_train_step(nets[run], opt, x, labels, &losses[run][step]));
            alexnet_tensor_free(x);
        }
        alexnet_optimizer_free(opt);
    }
    ck_assert_mem_eq(losses[0], losses[1], sizeof losses[0]);
    ck_assert(same_weights(nets[0], nets[1]));
    alexnet_network_free(nets[0]);
    alexnet_network_free(nets[1]);
}
END_TEST

/* alexnet_train_step reads the caller's input in backward instead of copying it into the plan:
 * the same step as separate forward (which must copy: its caller may reuse the tensor), backward
 * and optimizer calls, to the bit, in a smaller plan; and afterwards no backward can reach the
 * borrowed input. */
START_TEST(train_step_reads_the_input_in_place)
{
    alexnet_network *stepped = mini_network(28, 0.5f, 5), *separate = mini_network(28, 0.5f, 5);
    alexnet_optimizer *a = sgd(stepped, 0.02f, 0.9f, 0.0005f);
    alexnet_optimizer *b = sgd(separate, 0.02f, 0.9f, 0.0005f);
    int32_t labels[16];
    alexnet_tensor *x = labelled_batch(16, 28, labels, 3);
    int64_t shape[2] = {16, 10};
    alexnet_tensor *logits = NULL;
    ck_assert_ok(alexnet_tensor_create(&logits, 2, shape));
    for (int step = 0; step < 3; step++) {
        float loss_a, loss_b;
        ck_assert_ok(alexnet_train_step(stepped, a, x, labels, &loss_a));
        ck_assert_ok(alexnet_network_forward(separate, x, logits, 1));
        ck_assert_ok(alexnet_network_backward(separate, labels, &loss_b));
        ck_assert_ok(alexnet_optimizer_step(b));
        ck_assert_float_eq(loss_a, loss_b);
    }
    ck_assert(same_weights(stepped, separate));
    ck_assert_fails(alexnet_network_backward(stepped, labels, NULL), ALEXNET_ERR_STATE,
                    "no training forward");
    alexnet_memory_info ma = {.struct_size = sizeof ma}, mb = {.struct_size = sizeof mb};
    ck_assert_ok(alexnet_network_memory(stepped, &ma));
    ck_assert_ok(alexnet_network_memory(separate, &mb));
    ck_assert_int_le(ma.activation_bytes + (int64_t)sizeof(float) * alexnet_tensor_numel(x),
                     mb.activation_bytes);
    alexnet_tensor_free(x);
    alexnet_tensor_free(logits);
    alexnet_optimizer_free(a);
    alexnet_optimizer_free(b);
    alexnet_network_free(stepped);
    alexnet_network_free(separate);
}
END_TEST

START_TEST(non_finite_training_changes_no_weight)
{
    alexnet_network *net = mini_network(15, 0.0f, 3);
    alexnet_optimizer *opt = sgd(net, 0.01f, 0.9f, 0.0005f);
    int32_t labels[4];
    alexnet_tensor *x = labelled_batch(4, 15, labels, 3);
    float loss;
    ck_assert_ok(alexnet_train_step(net, opt, x, labels, &loss));
    alexnet_tensor *b = NULL;
    ck_assert_ok(alexnet_network_param(net, "fc8.bias", &b, NULL));
    alexnet_tensor_data(b)[0] = NAN; /* e.g. loaded from a file */
    double before = param_checksum(net);
    ck_assert_fails(alexnet_train_step(net, opt, x, labels, &loss), ALEXNET_ERR_NUMERIC,
                    "the loss is nan");
    ck_assert(isnan(param_checksum(net)) && isnan(before));
    for (int i = 0; i < alexnet_network_param_count(net); i++) {
        alexnet_tensor *v = NULL;
        const char *name = alexnet_network_param_name(net, i);
        ck_assert_ok(alexnet_network_param(net, name, &v, NULL));
        for (int64_t k = 0; k < alexnet_tensor_numel(v); k++)
            ck_assert(isfinite(alexnet_tensor_data(v)[k]) ||
                      (strcmp(name, "fc8.bias") == 0 && k == 0));
    }
    ck_assert_int_eq(alexnet_optimizer_steps(opt), 1);
    /* A finite loss but an update that overflows is refused too, before any write: a huge bias
     * (the loss is about 1e30, still finite) times the weight decay times a huge rate. */
    alexnet_tensor_data(b)[0] = 0.0f;
    alexnet_tensor_data(b)[1] = 1e30f; /* class 1 is no label of this batch */
    ck_assert_ok(alexnet_optimizer_set_learning_rate(opt, 1e20f));
    double finite_before = param_checksum(net);
    ck_assert_fails(alexnet_train_step(net, opt, x, labels, &loss), ALEXNET_ERR_NUMERIC,
                    "nothing was changed");
    ck_assert(param_checksum(net) == finite_before);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(failed_train_step_leaves_training_as_it_was)
{
    /* A rejected call must not advance the dropout draws: both runs end identical. */
    alexnet_network *a = mini_network(15, 0.5f, 4), *b = mini_network(15, 0.5f, 4);
    alexnet_optimizer *oa = sgd(a, 0.01f, 0.9f, 0.0005f), *ob = sgd(b, 0.01f, 0.9f, 0.0005f);
    int32_t labels[4], bad[4] = {0, 1, 2, 10};
    alexnet_tensor *x = labelled_batch(4, 15, labels, 5);
    ck_assert_fails(alexnet_train_step(a, oa, x, bad, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "label 3 of the batch is 10");
    ck_assert_fails(alexnet_train_step(a, ob, x, labels, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "another network");
    ck_assert_fails(alexnet_train_step(a, oa, NULL, labels, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'input' is NULL");
    ck_assert_fails(alexnet_train_step(a, oa, x, NULL, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'labels' is NULL");
    ck_assert_ok(alexnet_train_step(a, oa, x, labels, NULL));
    ck_assert_ok(alexnet_train_step(b, ob, x, labels, NULL));
    ck_assert(same_weights(a, b));
    alexnet_tensor_free(x);
    alexnet_optimizer_free(oa);
    alexnet_optimizer_free(ob);
    alexnet_network_free(a);
    alexnet_network_free(b);
}
END_TEST

START_TEST(bad_optimizer_settings_are_rejected)
{
    alexnet_network *net = mini_network(15, 0.0f, 5);
    alexnet_sgd_config cfg;
    alexnet_optimizer *opt = (alexnet_optimizer *)&cfg;
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.learning_rate = 0.0f;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "learning_rate is 0");
    ck_assert_ptr_null(opt);
    cfg.learning_rate = NAN;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "learning_rate is nan");
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.momentum = 1.0f;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "momentum is 1");
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.weight_decay = -1.0f;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "weight_decay is -1");
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.struct_size = 3;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_sgd_config_init");
    ck_assert_fails(alexnet_optimizer_create(&opt, NULL, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'net' is NULL");
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &cfg));
    ck_assert_fails(alexnet_optimizer_set_learning_rate(opt, -0.5f), ALEXNET_ERR_INVALID_ARGUMENT,
                    "-0.5 is not finite and > 0");
    ck_assert_fails(alexnet_optimizer_set_learning_rate(opt, INFINITY),
                    ALEXNET_ERR_INVALID_ARGUMENT, "inf");
    ck_assert_float_eq(alexnet_optimizer_learning_rate(opt), 0.01f);
    ck_assert_ok(alexnet_optimizer_set_learning_rate(opt, 0.003f));
    ck_assert_float_eq(alexnet_optimizer_learning_rate(opt), 0.003f);
    ck_assert_fails(alexnet_optimizer_step(NULL), ALEXNET_ERR_INVALID_ARGUMENT, "'opt' is NULL");
    ck_assert_float_eq(alexnet_optimizer_learning_rate(NULL), 0.0f);
    alexnet_optimizer_free(NULL);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

static alexnet_optimizer *scheduled(alexnet_network *net, const alexnet_schedule_config *cfg)
{
    alexnet_optimizer *opt = sgd(net, 0.01f, 0.9f, 0.0005f);
    ck_assert_ok(alexnet_optimizer_set_schedule(opt, cfg));
    return opt;
}

START_TEST(step_schedule_divides_every_n_epochs)
{
    alexnet_network *net = mini_network(15, 0.0f, 6);
    alexnet_schedule_config cfg;
    ck_assert_ok(alexnet_schedule_config_init(&cfg, ALEXNET_SCHEDULE_STEP));
    ck_assert_float_eq(cfg.factor, 0.1f);
    cfg.step_epochs = 2;
    alexnet_optimizer *opt = scheduled(net, &cfg);
    const float expected[] = {0.01f, 0.001f, 0.001f, 0.0001f, 0.0001f};
    const int changes[] = {0, 1, 0, 1, 0};
    for (int epoch = 0; epoch < 5; epoch++) {
        int changed = -1;
        ck_assert_ok(alexnet_optimizer_end_epoch(opt, 0.5f, &changed));
        ck_assert_float_eq_tol(alexnet_optimizer_learning_rate(opt), expected[epoch], 1e-9f);
        ck_assert_int_eq(changed, changes[epoch]);
    }
    ck_assert_int_eq(alexnet_optimizer_epochs(opt), 5);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(plateau_schedule_divides_when_validation_stalls)
{
    alexnet_network *net = mini_network(15, 0.0f, 7);
    alexnet_schedule_config cfg;
    ck_assert_ok(alexnet_schedule_config_init(&cfg, ALEXNET_SCHEDULE_PLATEAU));
    cfg.patience = 2;
    cfg.min_learning_rate = 5e-4f;
    alexnet_optimizer *opt = scheduled(net, &cfg);
    /* error:    improves, improves, stalls, stalls (decay), improves, stalls, stalls (min) */
    const float errors[] = {0.5f, 0.4f, 0.45f, 0.4f, 0.3f, 0.3f, 0.31f};
    const float rates[] = {0.01f, 0.01f, 0.01f, 0.001f, 0.001f, 0.001f, 5e-4f};
    for (int epoch = 0; epoch < 7; epoch++) {
        ck_assert_ok(alexnet_optimizer_end_epoch(opt, errors[epoch], NULL));
        ck_assert_float_eq_tol(alexnet_optimizer_learning_rate(opt), rates[epoch], 1e-9f);
    }
    ck_assert_fails(alexnet_optimizer_end_epoch(opt, NAN, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "not finite");
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(constant_schedule_and_bad_schedules)
{
    alexnet_network *net = mini_network(15, 0.0f, 8);
    alexnet_optimizer *opt = sgd(net, 0.01f, 0.9f, 0.0005f);
    for (int epoch = 0; epoch < 3; epoch++)
        ck_assert_ok(alexnet_optimizer_end_epoch(opt, 1.0f, NULL));
    ck_assert_float_eq(alexnet_optimizer_learning_rate(opt), 0.01f);
    alexnet_schedule_config cfg;
    ck_assert_fails(alexnet_schedule_config_init(&cfg, (alexnet_schedule_kind)9),
                    ALEXNET_ERR_INVALID_ARGUMENT, "kind 9 is unknown");
    ck_assert_ok(alexnet_schedule_config_init(&cfg, ALEXNET_SCHEDULE_STEP));
    cfg.factor = 1.5f;
    ck_assert_fails(alexnet_optimizer_set_schedule(opt, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "factor is 1.5");
    ck_assert_ok(alexnet_schedule_config_init(&cfg, ALEXNET_SCHEDULE_STEP));
    cfg.step_epochs = 0;
    ck_assert_fails(alexnet_optimizer_set_schedule(opt, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "step_epochs (0)");
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("training");
    TCase *tc = tcase_create("training");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sgd_defaults_are_the_papers);
    tcase_add_test(tc, param_buffers_carry_data_parallel_training);
    tcase_add_test(tc, update_follows_the_papers_rule);
    tcase_add_test(tc, training_lowers_the_loss);
    tcase_add_test(tc, same_seed_gives_same_training);
    tcase_add_test(tc, train_step_reads_the_input_in_place);
    tcase_add_test(tc, non_finite_training_changes_no_weight);
    tcase_add_test(tc, failed_train_step_leaves_training_as_it_was);
    tcase_add_test(tc, bad_optimizer_settings_are_rejected);
    tcase_add_test(tc, step_schedule_divides_every_n_epochs);
    tcase_add_test(tc, plateau_schedule_divides_when_validation_stalls);
    tcase_add_test(tc, constant_schedule_and_bad_schedules);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
