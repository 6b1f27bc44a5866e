/* The network ABI: configuration, construction and initialisation, parameter views, forward and
 * backward on all three architectures, memory planning, and every misuse the contract names. */
#include "test_helpers.h"

#include "memory.h"
#include "network.h"

#include <math.h>
#include <stdio.h>

static alexnet_network *make_network(alexnet_arch arch, int side, int channels, int classes,
                                     float dropout, alexnet_init init, uint64_t seed)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, arch));
    if (side) {
        cfg.in_height = cfg.in_width = side;
    }
    if (channels)
        cfg.in_channels = channels;
    if (classes)
        cfg.num_classes = classes;
    cfg.dropout = dropout;
    cfg.init = init;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, seed));
    return net;
}

/* MINI with the paper's choices switched: tanh, no LRN, adjacent 2x2 pooling. */
static alexnet_network *make_switched_network(int side, int channels, uint64_t seed)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_height = cfg.in_width = side;
    cfg.in_channels = channels;
    cfg.num_classes = 5;
    cfg.dropout = 0.0f;
    cfg.init = ALEXNET_INIT_HE;
    cfg.activation = ALEXNET_ACTIVATION_TANH;
    cfg.lrn = 0;
    cfg.pool_size = 2;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, seed));
    return net;
}

static alexnet_tensor *make_tensor4(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed)
{
    int64_t dims[4] = {n, c, h, w};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 4, dims));
    float *d = alexnet_tensor_data(t);
    for (int64_t i = 0; i < alexnet_tensor_numel(t); i++)
        d[i] = (float)((i * 2654435761u + seed * 97) % 2001) / 1000.0f - 1.0f;
    return t;
}

static alexnet_tensor *make_logits(int64_t n, int64_t classes)
{
    int64_t dims[2] = {n, classes};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 2, dims));
    return t;
}

static alexnet_tensor *param(alexnet_network *net, const char *name)
{
    alexnet_tensor *value = NULL;
    ck_assert_ok(alexnet_network_param(net, name, &value, NULL));
    return value;
}

static alexnet_tensor *grad(alexnet_network *net, const char *name)
{
    alexnet_tensor *g = NULL;
    ck_assert_ok(alexnet_network_param(net, name, NULL, &g));
    return g;
}

static void assert_shape(alexnet_tensor *t, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t want[4] = {a, b, c, d};
    ck_assert_int_eq(alexnet_tensor_ndim(t), ndim);
    for (int i = 0; i < ndim; i++)
        ck_assert_int_eq(alexnet_tensor_dim(t, i), want[i]);
}

START_TEST(config_init_gives_each_architecture_its_defaults)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    ck_assert_uint_eq(cfg.struct_size, sizeof cfg);
    ck_assert_int_eq(cfg.in_channels, 3);
    ck_assert_int_eq(cfg.in_height, 227);
    ck_assert_int_eq(cfg.num_classes, 1000);
    ck_assert_float_eq(cfg.dropout, 0.5f);
    ck_assert_int_eq(cfg.init, ALEXNET_INIT_PAPER);
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_TORCHVISION));
    ck_assert_int_eq(cfg.in_width, 224);
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_int_eq(cfg.in_channels, 1);
    ck_assert_int_eq(cfg.in_height, 28);
    ck_assert_int_eq(cfg.num_classes, 10);
    ck_assert_fails(alexnet_config_init(&cfg, (alexnet_arch)7), ALEXNET_ERR_INVALID_ARGUMENT,
                    "architecture 7 is unknown");
    ck_assert_fails(alexnet_config_init(NULL, ALEXNET_ARCH_MINI), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'cfg' is NULL");
}
END_TEST

START_TEST(paper_network_has_the_papers_shapes_and_init)
{
    alexnet_network *net =
        make_network(ALEXNET_ARCH_PAPER, 0, 0, 0, 0.5f, ALEXNET_INIT_PAPER, 2012);
    ck_assert_int_eq(alexnet_network_param_count(net), 16);
    ck_assert_str_eq(alexnet_network_param_name(net, 0), "conv1.weight");
    ck_assert_str_eq(alexnet_network_param_name(net, 15), "fc8.bias");
    ck_assert_ptr_null(alexnet_network_param_name(net, 16));
    assert_shape(param(net, "conv1.weight"), 4, 96, 3, 11, 11);
    assert_shape(param(net, "conv2.weight"), 4, 256, 48, 5, 5); /* groups = 2 */
    assert_shape(param(net, "conv3.weight"), 4, 384, 256, 3, 3);
    assert_shape(param(net, "conv4.weight"), 4, 384, 192, 3, 3);
    assert_shape(param(net, "conv5.weight"), 4, 256, 192, 3, 3);
    assert_shape(param(net, "fc6.weight"), 2, 4096, 9216, 0, 0);
    assert_shape(param(net, "fc7.weight"), 2, 4096, 4096, 0, 0);
    assert_shape(param(net, "fc8.weight"), 2, 1000, 4096, 0, 0);
    assert_shape(param(net, "fc8.bias"), 1, 1000, 0, 0, 0);

    /* Weights N(0, 0.01). */
    alexnet_tensor *w = param(net, "conv2.weight");
    double sum = 0, squares = 0;
    const float *d = alexnet_tensor_data(w);
    for (int64_t i = 0; i < alexnet_tensor_numel(w); i++) {
        sum += d[i];
        squares += (double)d[i] * d[i];
    }
    double n = (double)alexnet_tensor_numel(w);
    ck_assert_double_eq_tol(sum / n, 0.0, 1e-4);
    ck_assert_double_eq_tol(sqrt(squares / n), 0.01, 2e-4);

    /* Biases 1 in conv2, conv4, conv5, fc6, fc7; 0 elsewhere. */
    const char *ones[] = {"conv2.bias", "conv4.bias", "conv5.bias", "fc6.bias", "fc7.bias"};
    const char *zeros[] = {"conv1.bias", "conv3.bias", "fc8.bias"};
    for (int i = 0; i < 5; i++) {
        alexnet_tensor *b = param(net, ones[i]);
        for (int64_t k = 0; k < alexnet_tensor_numel(b); k++)
            ck_assert_float_eq(alexnet_tensor_data(b)[k], 1.0f);
    }
    for (int i = 0; i < 3; i++) {
        alexnet_tensor *b = param(net, zeros[i]);
        for (int64_t k = 0; k < alexnet_tensor_numel(b); k++)
            ck_assert_float_eq(alexnet_tensor_data(b)[k], 0.0f);
    }

    alexnet_tensor *x = make_tensor4(2, 3, 227, 227, 1);
    alexnet_tensor *y = make_logits(2, 1000);
    int32_t labels[2] = {3, 999};
    float loss = 0.0f;
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, &loss));
    ck_assert(isfinite(loss) && loss > 0.0f);
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
}
END_TEST

START_TEST(torchvision_network_has_torchvisions_shapes_and_names)
{
    alexnet_network *net =
        make_network(ALEXNET_ARCH_TORCHVISION, 0, 0, 0, 0.5f, ALEXNET_INIT_PAPER, 1);
    assert_shape(param(net, "conv1.weight"), 4, 64, 3, 11, 11);
    assert_shape(param(net, "conv2.weight"), 4, 192, 64, 5, 5);
    assert_shape(param(net, "conv4.weight"), 4, 256, 384, 3, 3);
    assert_shape(param(net, "fc6.weight"), 2, 4096, 9216, 0, 0);
    const char *pairs[][2] = {
        {"conv1.weight", "features.0.weight"}, {"conv2.bias", "features.3.bias"},
        {"conv3.weight", "features.6.weight"}, {"conv4.weight", "features.8.weight"},
        {"conv5.bias", "features.10.bias"},    {"fc6.weight", "classifier.1.weight"},
        {"fc7.bias", "classifier.4.bias"},     {"fc8.weight", "classifier.6.weight"}};
    for (int i = 0; i < 8; i++) {
        ck_assert_ptr_eq(param(net, pairs[i][0]), param(net, pairs[i][1]));
        ck_assert_ptr_eq(grad(net, pairs[i][0]), grad(net, pairs[i][1]));
    }
    /* Borrowed views cannot be freed by mistake. */
    alexnet_tensor_free(param(net, "conv1.weight"));
    ck_assert_int_eq(alexnet_tensor_numel(param(net, "conv1.weight")), 64 * 3 * 11 * 11);

    /* Adaptive pooling: any input from 63x63 up, non-square too. */
    const int sizes[][2] = {{63, 63}, {100, 131}, {256, 256}};
    for (int i = 0; i < 3; i++) {
        alexnet_tensor *x = make_tensor4(1, 3, sizes[i][0], sizes[i][1], 2);
        alexnet_tensor *y = make_logits(1, 1000);
        ck_assert_ok(alexnet_network_forward(net, x, y, 0));
        ck_assert(isfinite(alexnet_tensor_data(y)[0]));
        alexnet_tensor_free(x);
        alexnet_tensor_free(y);
    }
    alexnet_tensor *x = make_tensor4(1, 3, 62, 80, 2);
    alexnet_tensor *y = make_logits(1, 1000);
    ck_assert_fails(alexnet_network_forward(net, x, y, 0), ALEXNET_ERR_SHAPE, "H, W >= 63");
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
}
END_TEST

START_TEST(mini_network_takes_fashion_mnist_sizes)
{
    const int sides[] = {28, 32, 64};
    for (int i = 0; i < 3; i++) {
        alexnet_network *net =
            make_network(ALEXNET_ARCH_MINI, sides[i], 0, 0, 0.5f, ALEXNET_INIT_HE, 3);
        alexnet_tensor *x = make_tensor4(3, 1, sides[i], sides[i], 3);
        alexnet_tensor *y = make_logits(3, 10);
        int32_t labels[3] = {0, 5, 9};
        float loss;
        ck_assert_ok(alexnet_network_forward(net, x, y, 1));
        ck_assert_ok(alexnet_network_backward(net, labels, &loss));
        ck_assert(isfinite(loss));
        alexnet_tensor_free(x);
        alexnet_tensor_free(y);
        alexnet_network_free(net);
    }
}
END_TEST

START_TEST(he_init_scales_with_fan_in)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 9);
    alexnet_tensor *w = param(net, "conv3.weight");
    double fan_in = (double)alexnet_tensor_numel(w) / (double)alexnet_tensor_dim(w, 0);
    double squares = 0;
    for (int64_t i = 0; i < alexnet_tensor_numel(w); i++)
        squares += (double)alexnet_tensor_data(w)[i] * alexnet_tensor_data(w)[i];
    ck_assert_double_eq_tol(sqrt(squares / (double)alexnet_tensor_numel(w)), sqrt(2.0 / fan_in),
                            0.02 * sqrt(2.0 / fan_in));
    ck_assert_float_eq(alexnet_tensor_data(param(net, "fc6.bias"))[0], 0.0f);
    alexnet_network_free(net);
}
END_TEST

static int params_equal(alexnet_network *a, alexnet_network *b)
{
    for (int i = 0; i < alexnet_network_param_count(a); i++) {
        const char *name = alexnet_network_param_name(a, i);
        alexnet_tensor *ta = param(a, name), *tb = param(b, name);
        if (memcmp(alexnet_tensor_data(ta), alexnet_tensor_data(tb),
                   sizeof(float) * (size_t)alexnet_tensor_numel(ta)) != 0)
            return 0;
    }
    return 1;
}

START_TEST(same_seed_gives_same_weights_on_any_thread_count)
{
    ck_assert_ok(alexnet_set_num_threads(1));
    ck_assert_int_eq(alexnet_get_num_threads(), 1);
    alexnet_network *a = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 42);
    ck_assert_ok(alexnet_set_num_threads(3));
    ck_assert_int_eq(alexnet_get_num_threads(), 3);
    alexnet_network *b = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 42);
    alexnet_network *c = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 43);
    ck_assert(params_equal(a, b));
    ck_assert(!params_equal(a, c));
    ck_assert_ok(alexnet_set_num_threads(0));
    ck_assert_int_ge(alexnet_get_num_threads(), 1);
    alexnet_network_free(a);
    alexnet_network_free(b);
    alexnet_network_free(c);
}
END_TEST

START_TEST(thread_count_is_validated)
{
    ck_assert_fails(alexnet_set_num_threads(-1), ALEXNET_ERR_INVALID_ARGUMENT, "-1 threads");
    ck_assert_fails(alexnet_set_num_threads(100000), ALEXNET_ERR_INVALID_ARGUMENT, "use 1 to 256");
}
END_TEST

START_TEST(dropout_masks_follow_seed_and_step)
{
    alexnet_network *a = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 5);
    alexnet_network *b = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 5);
    alexnet_tensor *x = make_tensor4(4, 1, 28, 28, 4);
    alexnet_tensor *ya = make_logits(4, 10), *yb = make_logits(4, 10), *ye = make_logits(4, 10);
    ck_assert_ok(alexnet_network_forward(a, x, ya, 1));
    ck_assert_ok(alexnet_network_forward(b, x, yb, 1));
    ck_assert_mem_eq(alexnet_tensor_data(ya), alexnet_tensor_data(yb), 40 * sizeof(float));
    ck_assert_ok(alexnet_network_forward(b, x, yb, 1)); /* the next step draws new masks */
    ck_assert_int_ne(memcmp(alexnet_tensor_data(ya), alexnet_tensor_data(yb), 40 * sizeof(float)),
                     0);
    /* Inference applies no dropout: two evaluations agree, and differ from training. */
    ck_assert_ok(alexnet_network_forward(a, x, ye, 0));
    ck_assert_ok(alexnet_network_forward(a, x, yb, 0));
    ck_assert_mem_eq(alexnet_tensor_data(ye), alexnet_tensor_data(yb), 40 * sizeof(float));
    ck_assert_int_ne(memcmp(alexnet_tensor_data(ya), alexnet_tensor_data(ye), 40 * sizeof(float)),
                     0);
    alexnet_tensor_free(x);
    alexnet_tensor_free(ya);
    alexnet_tensor_free(yb);
    alexnet_tensor_free(ye);
    alexnet_network_free(a);
    alexnet_network_free(b);
}
END_TEST

START_TEST(planned_passes_allocate_nothing)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 6);
    alexnet_tensor *x8 = make_tensor4(8, 1, 28, 28, 1), *y8 = make_logits(8, 10);
    alexnet_tensor *x3 = make_tensor4(3, 1, 28, 28, 1), *y3 = make_logits(3, 10);
    alexnet_tensor *x9 = make_tensor4(9, 1, 28, 28, 1), *y9 = make_logits(9, 10);
    int32_t labels[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_ok(alexnet_network_forward(net, x8, y8, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    size_t planned = memory_allocations();
    for (int i = 0; i < 3; i++) {
        ck_assert_ok(alexnet_network_forward(net, x8, y8, 1));
        ck_assert_ok(alexnet_network_backward(net, labels, NULL));
        ck_assert_ok(alexnet_network_forward(net, x8, y8, 0));
        ck_assert_ok(alexnet_network_forward(net, x3, y3, 1)); /* smaller: same plan */
        ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    }
    ck_assert_uint_eq(memory_allocations(), planned);
    ck_assert_ok(alexnet_network_forward(net, x9, y9, 1)); /* larger: planned anew */
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    ck_assert_uint_eq(memory_allocations(), planned + 1);
    /* The same image gives the same logits in any batch (1e-5: chunking changes sum order). */
    ck_assert_ok(alexnet_network_forward(net, x3, y3, 0));
    ck_assert_ok(alexnet_network_forward(net, x9, y9, 0));
    for (int i = 0; i < 30; i++)
        ck_assert_float_eq_tol(alexnet_tensor_data(y3)[i], alexnet_tensor_data(y9)[i], 1e-5f);
    alexnet_tensor_free(x8);
    alexnet_tensor_free(y8);
    alexnet_tensor_free(x3);
    alexnet_tensor_free(y3);
    alexnet_tensor_free(x9);
    alexnet_tensor_free(y9);
    alexnet_network_free(net);
}
END_TEST

/* Mean cross-entropy of an inference forward, in double. */
static double loss_of(alexnet_network *net, alexnet_tensor *x, alexnet_tensor *y,
                      const int32_t *labels)
{
    ck_assert_ok(alexnet_network_forward(net, x, y, 0));
    const int64_t n = alexnet_tensor_dim(y, 0), c = alexnet_tensor_dim(y, 1);
    const float *z = alexnet_tensor_data(y);
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double max = z[i * c];
        for (int64_t k = 1; k < c; k++)
            max = fmax(max, z[i * c + k]);
        double sum = 0.0;
        for (int64_t k = 0; k < c; k++)
            sum += exp(z[i * c + k] - max);
        total += log(sum) + max - z[i * c + labels[i]];
    }
    return total / (double)n;
}

/* Whole network: for each parameter tensor, the derivative along a random direction v,
 * (L(w + eps v) - L(w - eps v)) / 2 eps, equals the gradient's dot product with v. */
START_TEST(network_gradients_match_finite_differences)
{
    /* The last: grey input, so that conv1 runs inside lrn1 (lrn_fusion.c). */
    const alexnet_arch arches[] = {ALEXNET_ARCH_MINI, ALEXNET_ARCH_TORCHVISION, ALEXNET_ARCH_PAPER,
                                   ALEXNET_ARCH_MINI, ALEXNET_ARCH_MINI,        ALEXNET_ARCH_MINI};
    const int sides[] = {20, 63, 67, 64, 20, 20}, channels[] = {2, 2, 2, 3, 2, 1};
    alexnet_network *net =
        _i != 4 ? make_network(arches[_i], sides[_i], channels[_i], 5, 0.0f, ALEXNET_INIT_HE, 11)
                : make_switched_network(sides[_i], channels[_i], 11); /* tanh's backward */
    ck_assert(net->layers[0].conv.run_by_lrn == (_i == 5));
    alexnet_tensor *x = make_tensor4(2, channels[_i], sides[_i], sides[_i], 7);
    alexnet_tensor *y = make_logits(2, 5);
    int32_t labels[2] = {1, 4};
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    for (int p = 0; p < alexnet_network_param_count(net); p++) {
        const char *name = alexnet_network_param_name(net, p);
        alexnet_tensor *value = NULL, *g = NULL;
        ck_assert_ok(alexnet_network_param(net, name, &value, &g));
        const int64_t n = alexnet_tensor_numel(value);
        float *w = alexnet_tensor_data(value), *saved = malloc(sizeof(float) * (size_t)n);
        float *v = malloc(sizeof(float) * (size_t)n);
        memcpy(saved, w, sizeof(float) * (size_t)n);
        double along = 0.0, scale = 0.0;
        for (int64_t i = 0; i < n; i++) {
            v[i] = (float)((i * 48271 + p * 7) % 2001) / 1000.0f - 1.0f;
            along += (double)v[i] * alexnet_tensor_data(g)[i];
            scale += fabs((double)v[i] * alexnet_tensor_data(g)[i]);
        }
        /* A step that moves the loss measurably above float rounding. */
        double norm = 0.0;
        for (int64_t i = 0; i < n; i++)
            norm += (double)saved[i] * saved[i];
        const float eps = (float)(1e-2 * sqrt(norm / (double)n) + 1e-4);
        for (int64_t i = 0; i < n; i++)
            w[i] = saved[i] + eps * v[i];
        double plus = loss_of(net, x, y, labels);
        for (int64_t i = 0; i < n; i++)
            w[i] = saved[i] - eps * v[i];
        double minus = loss_of(net, x, y, labels);
        memcpy(w, saved, sizeof(float) * (size_t)n);
        double numeric = (plus - minus) / (2.0 * eps);
        ck_assert_msg(fabs(numeric - along) <= 0.03 * fabs(along) + 0.01 * scale + 1e-4,
                      "%s: directional derivative %.6g, gradient gives %.6g", name, numeric, along);
        free(saved);
        free(v);
    }
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
}
END_TEST

/* The gradient of every parameter, to the bit. */
static void assert_same_gradients(alexnet_network *a, alexnet_network *b)
{
    for (int p = 0; p < alexnet_network_param_count(a); p++) {
        const char *name = alexnet_network_param_name(a, p);
        alexnet_tensor *ga = NULL, *gb = NULL;
        ck_assert_ok(alexnet_network_param(a, name, NULL, &ga));
        ck_assert_ok(alexnet_network_param(b, name, NULL, &gb));
        ck_assert_msg(memcmp(alexnet_tensor_data(ga), alexnet_tensor_data(gb),
                             sizeof(float) * (size_t)alexnet_tensor_numel(ga)) == 0,
                      "%s: the gradient differs", name);
    }
}

/* MINI's LRNs run their neighbours image by image (lrn_fusion.c): conv1, relu1 and pool1 inside
 * lrn1, pool2 inside lrn2. The same logits, loss and gradients to the bit as the layers' separate
 * passes, at any batch and thread count, without the tensors between them in the plan. */
START_TEST(mini_lrns_run_their_neighbours_to_the_bit)
{
    const int threads[] = {1, 2, 3}, batches[] = {1, 5, 8};
    for (int r = 0; r < 3; r++) {
        ck_assert_ok(alexnet_set_num_threads(threads[r]));
        alexnet_network *fused =
            make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 21);
        alexnet_network *apart =
            make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 21);
        /* conv1 relu1 lrn1 pool1 conv2 relu2 lrn2 pool2 */
        ck_assert(fused->layers[0].conv.run_by_lrn);
        ck_assert_int_eq(fused->layers[2].lrn.conv_before, 2);
        ck_assert(fused->layers[2].lrn.runs_pool && fused->layers[3].pool.run_by_lrn);
        ck_assert_int_eq(fused->layers[6].lrn.conv_before, 0);
        ck_assert(fused->layers[6].lrn.runs_pool && fused->layers[7].pool.run_by_lrn);
        apart->layers[0].conv.run_by_lrn = false;
        apart->layers[2].lrn.conv_before = 0;
        for (int i = 2; i <= 6; i += 4) {
            apart->layers[i].lrn.runs_pool = false;
            apart->layers[i + 1].pool.run_by_lrn = false;
        }
        const int batch = batches[r];
        alexnet_tensor *x = make_tensor4(batch, 1, 28, 28, 30 + (uint64_t)r);
        alexnet_tensor *ya = make_logits(batch, 10), *yb = make_logits(batch, 10);
        const size_t logits = sizeof(float) * (size_t)batch * 10;
        int32_t labels[8];
        for (int n = 0; n < batch; n++)
            labels[n] = (n * 3 + r) % 10;
        float la = 0.0f, lb = 1.0f;
        ck_assert_ok(alexnet_network_forward(fused, x, ya, 1));
        ck_assert_ok(alexnet_network_forward(apart, x, yb, 1));
        ck_assert_mem_eq(alexnet_tensor_data(ya), alexnet_tensor_data(yb), logits);
        ck_assert_ok(alexnet_network_backward(fused, labels, &la));
        ck_assert_ok(alexnet_network_backward(apart, labels, &lb));
        ck_assert_float_eq(la, lb);
        assert_same_gradients(fused, apart);
        ck_assert_ok(alexnet_network_forward(fused, x, ya, 0));
        ck_assert_ok(alexnet_network_forward(apart, x, yb, 0));
        ck_assert_mem_eq(alexnet_tensor_data(ya), alexnet_tensor_data(yb), logits);
        const int unplanned[] = {1, 3, 7}; /* the outputs of conv1 (and relu1's), lrn1, lrn2 */
        for (int k = 0; k < 3; k++) {
            ck_assert_ptr_null(fused->plan.act[unplanned[k]]);
            ck_assert_ptr_nonnull(apart->plan.act[unplanned[k]]);
        }
        alexnet_memory_info ma = {.struct_size = sizeof ma}, mb = {.struct_size = sizeof mb};
        ck_assert_ok(alexnet_network_memory(fused, &ma));
        ck_assert_ok(alexnet_network_memory(apart, &mb));
        const int64_t maps = (int64_t)batch * (2 * 32 * 28 * 28 + 64 * 13 * 13) * 4;
        ck_assert_int_le(ma.activation_bytes, mb.activation_bytes - maps);
        alexnet_tensor_free(x);
        alexnet_tensor_free(ya);
        alexnet_tensor_free(yb);
        alexnet_network_free(fused);
        alexnet_network_free(apart);
    }
    ck_assert_ok(alexnet_set_num_threads(0));
}
END_TEST

START_TEST(backward_writes_rather_than_adds)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.0f, ALEXNET_INIT_HE, 12);
    alexnet_tensor *x = make_tensor4(2, 1, 28, 28, 8), *y = make_logits(2, 10);
    int32_t labels[2] = {2, 7};
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    alexnet_tensor *g = grad(net, "conv1.weight");
    float first = alexnet_tensor_data(g)[10];
    ck_assert_float_ne(first, 0.0f);
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    ck_assert_float_eq(alexnet_tensor_data(g)[10], first);
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
}
END_TEST

START_TEST(bad_config_is_rejected_with_the_field_named)
{
    alexnet_config cfg;
    alexnet_network *net = (alexnet_network *)&cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.dropout = 1.0f;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.dropout is 1");
    ck_assert_ptr_null(net);
    cfg.dropout = NAN;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.dropout");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.num_classes = 0;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.num_classes is 0");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_channels = -3;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.in_channels is -3");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_width = 100000;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.in_width is 100000");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.struct_size = 0;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_config_init");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.arch = (alexnet_arch)-1;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.arch -1 is unknown");
    ck_assert_fails(alexnet_network_create(&net, NULL, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'cfg' is NULL");
    ck_assert_fails(alexnet_network_create(NULL, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'out' is NULL");
}
END_TEST

/* The 1.1 fields: ranges named in messages; a 1.0 caller's shorter struct gets their defaults. */
/* A MINI network made from a config struct as an older caller passes it: it ends at `end`, and
 * what lies past that is garbage. Its config, read back, goes to *got. */
static alexnet_network *create_from_older_struct(size_t end, alexnet_config *got)
{
    alexnet_config old;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_config_init(&old, ALEXNET_ARCH_MINI));
    memset((char *)&old + end, 0x7f, sizeof old - end);
    old.struct_size = end;
    ck_assert_ok(alexnet_network_create(&net, &old, 1));
    ck_assert_ok(alexnet_config_init(got, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(net, got));
    return net;
}

START_TEST(caffe_fields_are_checked_and_default_for_older_callers)
{
    alexnet_config cfg;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    ck_assert_int_eq(cfg.pool_ceil, 0);
    ck_assert_int_eq(cfg.lrn_size, 5);
    ck_assert_float_eq(cfg.lrn_alpha, 5e-4f);
    ck_assert_float_eq(cfg.lrn_beta, 0.75f);
    ck_assert_float_eq(cfg.lrn_k, 2.0f);
    cfg.pool_ceil = 2;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.pool_ceil is 2; it must be 0 to 1");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.lrn_size = 16;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.lrn_size is 16; it must be 1 to 15");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.lrn_k = 0.0f;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.lrn_k is 0; it must be above 0 and at most 1000");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.lrn_alpha = NAN;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.lrn_alpha is nan; it must be from 0 to 1");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.lrn_beta = -1.0f;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "config.lrn_beta is -1");
    ck_assert_ptr_null(net);

    /* Caffe's rounding makes a 224 input fit PAPER's 9216 fc6 inputs, as bvlc_alexnet has it. */
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.in_height = cfg.in_width = 224;
    cfg.pool_ceil = 1;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    alexnet_tensor *w = NULL;
    ck_assert_ok(alexnet_network_param(net, "fc6.weight", &w, NULL));
    ck_assert_int_eq(alexnet_tensor_dim(w, 1), 9216);
    alexnet_network_free(net);
    cfg.pool_ceil = 0; /* rounding down, the same input gives 6400 */
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    ck_assert_ok(alexnet_network_param(net, "fc6.weight", &w, NULL));
    ck_assert_int_eq(alexnet_tensor_dim(w, 1), 6400);
    alexnet_network_free(net);

    /* A caller built against 1.0 passes a struct that ends at `init`: garbage past it is not
     * read, and the network gets the defaults. */
    alexnet_config got;
    net = create_from_older_struct(offsetof(alexnet_config, pool_ceil), &got);
    ck_assert_int_eq(got.pool_ceil, 0);
    ck_assert_int_eq(got.lrn_size, 5);
    ck_assert_float_eq(got.lrn_k, 2.0f);
    /* ... and reading the config back writes no more than its struct holds. */
    alexnet_config small;
    memset(&small, 0x55, sizeof small);
    small.struct_size = offsetof(alexnet_config, pool_ceil);
    ck_assert_ok(alexnet_network_get_config(net, &small));
    ck_assert_int_eq(small.pool_ceil, 0x55555555);
    alexnet_network_free(net);
}
END_TEST

static int64_t param_dim(alexnet_network *net, const char *name, int axis)
{
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_network_param(net, name, &t, NULL));
    return alexnet_tensor_dim(t, axis);
}

static void assert_all_equal(alexnet_network *net, const char *name, float value)
{
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_network_param(net, name, &t, NULL));
    for (int64_t i = 0; i < alexnet_tensor_numel(t); i++)
        ck_assert_msg(alexnet_tensor_data(t)[i] == value, "%s[%lld] is %g, not %g", name,
                      (long long)i, (double)alexnet_tensor_data(t)[i], (double)value);
}

/* The switches of the paper's choices (issue: the paper's claims): their defaults are the
 * paper's, their ranges are named in messages, they change the layer list, and a caller built
 * before them gets the defaults. */
START_TEST(paper_switches_are_checked_and_shape_the_network)
{
    alexnet_config cfg;
    alexnet_network *net = NULL;
    for (int a = ALEXNET_ARCH_PAPER; a <= ALEXNET_ARCH_MINI; a++) {
        ck_assert_ok(alexnet_config_init(&cfg, (alexnet_arch)a));
        ck_assert_int_eq(cfg.activation, ALEXNET_ACTIVATION_RELU);
        ck_assert_int_eq(cfg.lrn, a != ALEXNET_ARCH_TORCHVISION);
        ck_assert_int_eq(cfg.pool_size, 3);
        ck_assert_float_eq(cfg.init_bias, 1.0f);
    }
    static const struct {
        const char *field, *message;
    } bad[] = {{"activation", "config.activation is 2; it must be 0 to 1"},
               {"lrn", "config.lrn is 2; it must be 0 to 1"},
               {"pool_size", "config.pool_size is 4; it must be 2 to 3"},
               {"pool_size_1", "config.pool_size is 1; it must be 2 to 3"},
               {"init_bias", "config.init_bias is nan; it must be from -100 to 100"},
               {"init_bias_big", "config.init_bias is 1000; it must be from -100 to 100"},
               {"torchvision_lrn", "config.lrn is 1, but ALEXNET_ARCH_TORCHVISION has no LRN "
                                   "layer; it must be 0"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *f = bad[i].field;
        ck_assert_ok(alexnet_config_init(&cfg, strcmp(f, "torchvision_lrn") == 0
                                                   ? ALEXNET_ARCH_TORCHVISION
                                                   : ALEXNET_ARCH_MINI));
        if (strcmp(f, "activation") == 0)
            cfg.activation = (alexnet_activation)2;
        else if (strcmp(f, "lrn") == 0)
            cfg.lrn = 2;
        else if (strcmp(f, "pool_size") == 0)
            cfg.pool_size = 4;
        else if (strcmp(f, "pool_size_1") == 0)
            cfg.pool_size = 1;
        else if (strcmp(f, "init_bias") == 0)
            cfg.init_bias = NAN;
        else if (strcmp(f, "init_bias_big") == 0)
            cfg.init_bias = 1000.0f;
        else
            cfg.lrn = 1;
        ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                        bad[i].message);
        ck_assert_ptr_null(net);
    }

    /* Adjacent 2x2 windows: MINI's 28 -> 14 -> 7 -> 3 instead of 28 -> 13 -> 6 -> 2; PAPER's
     * 55 -> 27 -> 13 -> 6 either way (the paper's comparison changes nothing else). */
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.pool_size = 2;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    ck_assert_int_eq(param_dim(net, "fc6.weight", 1), 64 * 3 * 3);
    alexnet_network_free(net);
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.pool_size = 2;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    ck_assert_int_eq(param_dim(net, "fc6.weight", 1), 9216);
    alexnet_network_free(net);

    /* The paper's init with another bias constant; He's init ignores it. */
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.init_bias = 0.25f;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    assert_all_equal(net, "conv1.bias", 0.0f);
    assert_all_equal(net, "conv2.bias", 0.25f);
    assert_all_equal(net, "conv3.bias", 0.0f);
    assert_all_equal(net, "fc7.bias", 0.25f);
    assert_all_equal(net, "fc8.bias", 0.0f);
    alexnet_network_free(net);
    cfg.init = ALEXNET_INIT_HE;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    assert_all_equal(net, "conv2.bias", 0.0f);
    alexnet_network_free(net);

    /* tanh and no LRN: the logits are those of the same weights run through tanh layers, which
     * differ from ReLU's; without LRN the same weights give other logits again. */
    alexnet_tensor *x = make_tensor4(2, 1, 28, 28, 3), *relu = make_logits(2, 10),
                   *tanh_logits = make_logits(2, 10), *no_lrn = make_logits(2, 10);
    alexnet_network *r = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.0f, ALEXNET_INIT_HE, 4);
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.init = ALEXNET_INIT_HE;
    cfg.activation = ALEXNET_ACTIVATION_TANH;
    alexnet_network *t = NULL, *n = NULL;
    ck_assert_ok(alexnet_network_create(&t, &cfg, 4));
    cfg.activation = ALEXNET_ACTIVATION_RELU;
    cfg.lrn = 0;
    ck_assert_ok(alexnet_network_create(&n, &cfg, 4));
    assert_all_equal(t, "fc8.bias", 0.0f);
    ck_assert_ok(alexnet_network_forward(r, x, relu, 0));
    ck_assert_ok(alexnet_network_forward(t, x, tanh_logits, 0));
    ck_assert_ok(alexnet_network_forward(n, x, no_lrn, 0));
    for (int i = 0; i < 20; i++) {
        ck_assert(isfinite(alexnet_tensor_data(tanh_logits)[i]));
        ck_assert(alexnet_tensor_data(tanh_logits)[i] != alexnet_tensor_data(relu)[i]);
        ck_assert(alexnet_tensor_data(no_lrn)[i] != alexnet_tensor_data(relu)[i]);
    }
    alexnet_network_free(r);
    alexnet_network_free(t);
    alexnet_network_free(n);
    alexnet_tensor_free(x);
    alexnet_tensor_free(relu);
    alexnet_tensor_free(tanh_logits);
    alexnet_tensor_free(no_lrn);

    /* A caller built before the switches passes a struct that ends at lrn_k: garbage past it is
     * not read, and the network gets the paper's choices. */
    alexnet_config got;
    net = create_from_older_struct(offsetof(alexnet_config, activation), &got);
    ck_assert_int_eq(got.activation, ALEXNET_ACTIVATION_RELU);
    ck_assert_int_eq(got.lrn, 1);
    ck_assert_int_eq(got.pool_size, 3);
    ck_assert_float_eq(got.init_bias, 1.0f);
    assert_all_equal(net, "conv2.bias", 1.0f);
    alexnet_network_free(net);
}
END_TEST

START_TEST(too_small_input_names_the_smallest_size)
{
    alexnet_config cfg;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    cfg.in_height = cfg.in_width = 66;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_SHAPE,
                    "the smallest input is 67x67");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_TORCHVISION));
    cfg.in_height = 40;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_SHAPE,
                    "the smallest input is 63x63");
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_height = cfg.in_width = 14;
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_SHAPE,
                    "the smallest input is 15x15");
    ck_assert_ptr_null(net);
}
END_TEST

START_TEST(misuse_of_forward_and_backward_is_reported)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.5f, ALEXNET_INIT_HE, 13);
    alexnet_tensor *x = make_tensor4(2, 1, 28, 28, 9), *y = make_logits(2, 10);
    alexnet_tensor *wrong_x = make_tensor4(2, 3, 28, 28, 9), *wrong_y = make_logits(3, 10);
    alexnet_tensor *small_x = make_tensor4(2, 1, 27, 28, 9);
    int32_t labels[2] = {1, 2}, bad_labels[2] = {1, 10}, negative[2] = {-1, 0};
    float loss = -1.0f;

    ck_assert_fails(alexnet_network_backward(net, labels, &loss), ALEXNET_ERR_STATE,
                    "no training forward");
    ck_assert_fails(alexnet_network_forward(net, wrong_x, y, 0), ALEXNET_ERR_SHAPE,
                    "input has shape [2, 3, 28, 28]; expected [N, 1, 28, 28]");
    ck_assert_fails(alexnet_network_forward(net, small_x, y, 0), ALEXNET_ERR_SHAPE,
                    "input has shape [2, 1, 27, 28]");
    ck_assert_fails(alexnet_network_forward(net, x, wrong_y, 0), ALEXNET_ERR_SHAPE,
                    "logits have shape [3, 10]; expected [2, 10]");
    ck_assert_fails(alexnet_network_forward(NULL, x, y, 0), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'net' is NULL");
    ck_assert_fails(alexnet_network_forward(net, NULL, y, 0), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'input' is NULL");
    ck_assert_fails(alexnet_network_forward(net, x, NULL, 0), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'logits' is NULL");

    ck_assert_ok(alexnet_network_forward(net, x, y, 0));
    ck_assert_fails(alexnet_network_backward(net, labels, &loss), ALEXNET_ERR_STATE,
                    "training != 0");
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_fails(alexnet_network_backward(net, NULL, &loss), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'labels' is NULL");
    ck_assert_fails(alexnet_network_backward(net, bad_labels, &loss), ALEXNET_ERR_INVALID_ARGUMENT,
                    "label 1 of the batch is 10; labels must be in [0, 10)");
    ck_assert_fails(alexnet_network_backward(net, negative, &loss), ALEXNET_ERR_INVALID_ARGUMENT,
                    "label 0 of the batch is -1");
    ck_assert_float_eq(loss, -1.0f); /* untouched by the failed calls */
    ck_assert_ok(alexnet_network_backward(net, labels, &loss));
    ck_assert_float_gt(loss, 0.0f);

    alexnet_tensor *value = (alexnet_tensor *)x;
    ck_assert_fails(alexnet_network_param(net, "conv9.weight", &value, NULL),
                    ALEXNET_ERR_INVALID_ARGUMENT, "no parameter is named 'conv9.weight'");
    ck_assert_ptr_null(value);
    ck_assert_fails(alexnet_network_param(net, NULL, &value, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'name' is NULL");
    ck_assert_int_eq(alexnet_network_param_count(NULL), 0);
    alexnet_network_free(NULL);

    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_tensor_free(wrong_x);
    alexnet_tensor_free(wrong_y);
    alexnet_tensor_free(small_x);
    alexnet_network_free(net);
}
END_TEST

START_TEST(non_finite_loss_is_reported_without_touching_gradients)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 0, 0, 0, 0.0f, ALEXNET_INIT_HE, 14);
    alexnet_tensor *x = make_tensor4(2, 1, 28, 28, 9), *y = make_logits(2, 10);
    int32_t labels[2] = {1, 2};
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    float before = alexnet_tensor_data(grad(net, "fc8.weight"))[3];
    alexnet_tensor_data(param(net, "fc8.bias"))[4] = NAN;
    float loss = 0.0f;
    ck_assert_ok(alexnet_network_forward(net, x, y, 1));
    ck_assert_fails(alexnet_network_backward(net, labels, &loss), ALEXNET_ERR_NUMERIC,
                    "the loss is nan");
    ck_assert(isnan(loss));
    ck_assert_float_eq(alexnet_tensor_data(grad(net, "fc8.weight"))[3], before);
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
}
END_TEST

START_TEST(config_round_trips_through_the_network)
{
    alexnet_network *net = make_network(ALEXNET_ARCH_MINI, 32, 3, 7, 0.25f, ALEXNET_INIT_HE, 1);
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(net, &cfg));
    ck_assert_int_eq(cfg.arch, ALEXNET_ARCH_MINI);
    ck_assert_int_eq(cfg.in_channels, 3);
    ck_assert_int_eq(cfg.in_height, 32);
    ck_assert_int_eq(cfg.num_classes, 7);
    ck_assert_float_eq(cfg.dropout, 0.25f);
    ck_assert_int_eq(cfg.init, ALEXNET_INIT_HE);
    cfg.struct_size = 4;
    ck_assert_fails(alexnet_network_get_config(net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "struct_size is 4");
    alexnet_network_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("network");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, config_init_gives_each_architecture_its_defaults);
    tcase_add_test(tc, paper_network_has_the_papers_shapes_and_init);
    tcase_add_test(tc, torchvision_network_has_torchvisions_shapes_and_names);
    tcase_add_test(tc, mini_network_takes_fashion_mnist_sizes);
    tcase_add_test(tc, he_init_scales_with_fan_in);
    tcase_add_test(tc, same_seed_gives_same_weights_on_any_thread_count);
    tcase_add_test(tc, thread_count_is_validated);
    tcase_add_test(tc, dropout_masks_follow_seed_and_step);
    tcase_add_test(tc, planned_passes_allocate_nothing);
    tcase_add_loop_test(tc, network_gradients_match_finite_differences, 0, 6);
    tcase_add_test(tc, mini_lrns_run_their_neighbours_to_the_bit);
    tcase_add_test(tc, backward_writes_rather_than_adds);
    tcase_add_test(tc, bad_config_is_rejected_with_the_field_named);
    tcase_add_test(tc, caffe_fields_are_checked_and_default_for_older_callers);
    tcase_add_test(tc, paper_switches_are_checked_and_shape_the_network);
    tcase_add_test(tc, too_small_input_names_the_smallest_size);
    tcase_add_test(tc, misuse_of_forward_and_backward_is_reported);
    tcase_add_test(tc, non_finite_loss_is_reported_without_touching_gradients);
    tcase_add_test(tc, config_round_trips_through_the_network);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
