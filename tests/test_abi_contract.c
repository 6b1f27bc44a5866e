/* The ABI rules of the public header, checked for every struct and accessor they cover:
 * configuration structs of any size (older and newer callers), accessors that never fail, and
 * outputs cleared on failure. */
#include "file_helpers.h"

#include <math.h>
#include "test_helpers.h"

#include <stddef.h>

/* A newer caller's struct: ours followed by a field this library does not know. */
#define NEWER(type)                                                                                \
    struct {                                                                                       \
        type known;                                                                                \
        uint64_t unknown;                                                                          \
    }

static alexnet_network *mini(void)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 3));
    return net;
}

START_TEST(network_config_of_any_version)
{
    alexnet_network *net = NULL;
    alexnet_config cfg, back;
    /* The 1.0 size: every field is read. */
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_uint_eq(cfg.struct_size, sizeof cfg);
    cfg.init = ALEXNET_INIT_HE;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    ck_assert_ok(alexnet_config_init(&back, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(net, &back));
    ck_assert_int_eq(back.init, ALEXNET_INIT_HE);
    alexnet_network_free(net);

    /* An older caller whose struct ends at dropout: init is not read, its default applies. */
    cfg.struct_size = offsetof(alexnet_config, dropout) + sizeof cfg.dropout;
    cfg.init = (alexnet_init)77; /* beyond struct_size: must be ignored */
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    ck_assert_ok(alexnet_network_get_config(net, &back));
    ck_assert_int_eq(back.init, ALEXNET_INIT_PAPER);
    /* ... and reading the config back into such a struct writes only what it has. */
    back.struct_size = cfg.struct_size;
    back.init = (alexnet_init)55;
    ck_assert_ok(alexnet_network_get_config(net, &back));
    ck_assert_uint_eq(back.struct_size, cfg.struct_size);
    ck_assert_int_eq(back.init, 55);
    alexnet_network_free(net);

    /* Smaller than the required fields: refused. */
    cfg.struct_size = offsetof(alexnet_config, dropout);
    ck_assert_fails(alexnet_network_create(&net, &cfg, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "smaller than any version of the struct");
    ck_assert_ptr_null(net);

    /* A newer caller: accepted when the fields it adds are zero, refused otherwise. */
    NEWER(alexnet_config) newer;
    memset(&newer, 0, sizeof newer);
    ck_assert_ok(alexnet_config_init(&newer.known, ALEXNET_ARCH_MINI));
    newer.known.struct_size = sizeof newer;
    ck_assert_ok(alexnet_network_create(&net, &newer.known, 1));
    ck_assert_ok(alexnet_network_get_config(net, &newer.known)); /* written: only what it knows */
    ck_assert_uint_eq(newer.known.struct_size, sizeof(alexnet_config));
    alexnet_network_free(net);
    newer.known.struct_size = sizeof newer;
    newer.unknown = 1;
    ck_assert_fails(alexnet_network_create(&net, &newer.known, 1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "built for a newer libalexnet");
    ck_assert_ptr_null(net);
}
END_TEST

START_TEST(sgd_config_of_any_version)
{
    alexnet_network *net = mini();
    alexnet_optimizer *opt = NULL;
    alexnet_sgd_config cfg, back;
    ck_assert_ok(alexnet_sgd_config_init(&cfg));
    cfg.learning_rate = 0.25f;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &cfg));
    ck_assert_ok(alexnet_sgd_config_init(&back));
    ck_assert_ok(alexnet_optimizer_get_config(opt, &back));
    ck_assert_mem_eq(&back, &cfg, sizeof cfg);
    alexnet_optimizer_free(opt);

    /* Every 1.0 field is required: one float short is refused. */
    cfg.struct_size = offsetof(alexnet_sgd_config, weight_decay);
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_sgd_config.struct_size");
    ck_assert_ptr_null(opt);
    back.struct_size = 2;
    ck_assert_fails(alexnet_optimizer_get_config(opt, &back), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'opt' is NULL");

    NEWER(alexnet_sgd_config) newer;
    memset(&newer, 0, sizeof newer);
    ck_assert_ok(alexnet_sgd_config_init(&newer.known));
    newer.known.struct_size = sizeof newer;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &newer.known));
    alexnet_optimizer_free(opt);
    newer.unknown = UINT64_C(1) << 40;
    ck_assert_fails(alexnet_optimizer_create(&opt, net, &newer.known), ALEXNET_ERR_INVALID_ARGUMENT,
                    "asks for an option this one does not have");
    ck_assert_ptr_null(opt);
    alexnet_network_free(net);
}
END_TEST

START_TEST(schedule_config_of_any_version)
{
    alexnet_network *net = mini();
    alexnet_optimizer *opt = NULL;
    alexnet_sgd_config sgd;
    ck_assert_ok(alexnet_sgd_config_init(&sgd));
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &sgd));
    alexnet_schedule_config cfg;
    ck_assert_ok(alexnet_schedule_config_init(&cfg, ALEXNET_SCHEDULE_STEP));
    cfg.step_epochs = 1;
    ck_assert_ok(alexnet_optimizer_set_schedule(opt, &cfg));
    int changed = 0;
    ck_assert_ok(alexnet_optimizer_end_epoch(opt, 0.5f, &changed));
    ck_assert_int_eq(changed, 1); /* the struct was read whole: step_epochs 1 took effect */

    cfg.struct_size = offsetof(alexnet_schedule_config, min_learning_rate);
    ck_assert_fails(alexnet_optimizer_set_schedule(opt, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_schedule_config_init first");
    cfg.struct_size = sizeof cfg;
    cfg.kind = (alexnet_schedule_kind)9;
    ck_assert_fails(alexnet_optimizer_set_schedule(opt, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "schedule kind 9 is unknown");

    NEWER(alexnet_schedule_config) newer;
    memset(&newer, 0, sizeof newer);
    ck_assert_ok(alexnet_schedule_config_init(&newer.known, ALEXNET_SCHEDULE_PLATEAU));
    newer.known.struct_size = sizeof newer;
    ck_assert_ok(alexnet_optimizer_set_schedule(opt, &newer.known));
    newer.unknown = 3;
    ck_assert_fails(alexnet_optimizer_set_schedule(opt, &newer.known), ALEXNET_ERR_INVALID_ARGUMENT,
                    "newer libalexnet");
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

/* A data set of n 4x3 images in a temporary directory. */
static alexnet_dataset *tiny_dataset(int n)
{
    uint8_t images[16 + 12 * 8] = {0, 0, 8, 3, 0, 0, 0, (uint8_t)n, 0, 0, 0, 4, 0, 0, 0, 3};
    uint8_t labels[8 + 8] = {0, 0, 8, 1, 0, 0, 0, (uint8_t)n};
    for (int i = 0; i < n; i++)
        labels[8 + i] = (uint8_t)(i % 2);
    write_bytes(in_dir("images.idx"), images, 16 + 12 * (size_t)n);
    write_bytes(in_dir("labels.idx"), labels, 8 + (size_t)n);
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&ds, in_dir("images.idx"), in_dir("labels.idx")));
    return ds;
}

START_TEST(loader_config_of_any_version)
{
    alexnet_dataset *ds = tiny_dataset(8);
    alexnet_loader *ld = NULL;
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 4, 3));
    cfg.batch_size = 3;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_int_eq(alexnet_loader_batches(ld), 3);
    alexnet_loader_free(ld);

    cfg.struct_size = offsetof(alexnet_loader_config, callback_user);
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_loader_config.struct_size");
    ck_assert_ptr_null(ld);

    /* The library reads struct_size bytes, never sizeof its own struct past a smaller one: a
     * newer caller's zero tail is fine, a set one is refused. */
    NEWER(alexnet_loader_config) newer;
    memset(&newer, 0, sizeof newer);
    ck_assert_ok(alexnet_loader_config_init(&newer.known, 1, 4, 3));
    newer.known.struct_size = sizeof newer;
    newer.known.batch_size = 4;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &newer.known));
    ck_assert_int_eq(alexnet_loader_batches(ld), 2);
    alexnet_loader_free(ld);
    newer.unknown = 1;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &newer.known), ALEXNET_ERR_INVALID_ARGUMENT,
                    "newer libalexnet");
    ck_assert_ptr_null(ld);
    alexnet_dataset_free(ds);
}
END_TEST

START_TEST(accessors_never_fail_and_leave_the_last_error_alone)
{
    int64_t shape[2] = {2, 3};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 2, shape));
    ck_assert_fails(alexnet_tensor_create(NULL, 2, shape), ALEXNET_ERR_INVALID_ARGUMENT, "'out'");
    const char *before = "alexnet_tensor_create: argument 'out' is NULL";
    ck_assert_str_eq(alexnet_last_error(), before);

    ck_assert_int_eq(alexnet_tensor_ndim(NULL), 0);
    ck_assert_int_eq(alexnet_tensor_dim(NULL, 0), -1);
    ck_assert_int_eq(alexnet_tensor_dim(t, 2), -1);
    ck_assert_int_eq(alexnet_tensor_dim(t, -3), -1);
    ck_assert_int_eq(alexnet_tensor_dim(t, -1), 3);
    ck_assert_int_eq(alexnet_tensor_numel(NULL), 0);
    ck_assert_ptr_null(alexnet_tensor_data(NULL));
    ck_assert_int_eq(alexnet_network_param_count(NULL), 0);
    ck_assert_ptr_null(alexnet_network_param_name(NULL, 0));
    ck_assert_ptr_null(alexnet_network_class_name(NULL, 0));
    ck_assert_float_eq(alexnet_optimizer_learning_rate(NULL), 0.0f);
    ck_assert_int_eq(alexnet_optimizer_steps(NULL), 0);
    ck_assert_int_eq(alexnet_dataset_size(NULL), 0);
    ck_assert_ptr_null(alexnet_dataset_class_name(NULL, 0));
    ck_assert_int_eq(alexnet_loader_batches(NULL), 0);

    /* Freeing a borrowed view is a no-op: the network still owns and uses it. */
    alexnet_network *net = mini();
    alexnet_tensor *bias = NULL;
    ck_assert_ok(alexnet_network_param(net, "fc8.bias", &bias, NULL));
    alexnet_tensor_data(bias)[0] = 0.5f;
    alexnet_tensor_free(bias);
    alexnet_tensor *again = NULL;
    ck_assert_ok(alexnet_network_param(net, "fc8.bias", &again, NULL));
    ck_assert_float_eq(alexnet_tensor_data(again)[0], 0.5f);
    alexnet_tensor_free(NULL);
    alexnet_network_free(NULL);
    alexnet_optimizer_free(NULL);
    alexnet_dataset_free(NULL);
    alexnet_loader_free(NULL);
    ck_assert_str_eq(alexnet_last_error(), before);
    alexnet_network_free(net);
    alexnet_tensor_free(t);
}
END_TEST

START_TEST(every_output_is_cleared_on_failure)
{
    alexnet_tensor *images = (alexnet_tensor *)&images;
    const int32_t *labels = (const int32_t *)&labels;
    ck_assert_fails(alexnet_loader_next(NULL, &images, &labels), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'ld' is NULL");
    ck_assert_ptr_null(images);
    ck_assert_ptr_null(labels);

    alexnet_network *net = mini();
    const char *path = in_dir("model.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    alexnet_network *loaded = (alexnet_network *)&loaded;
    ck_assert_fails(alexnet_checkpoint_load(&loaded, NULL, path), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'opt' is NULL");
    ck_assert_ptr_null(loaded);
    alexnet_optimizer *opt = (alexnet_optimizer *)&opt;
    loaded = (alexnet_network *)&loaded;
    ck_assert_fails(alexnet_checkpoint_load(&loaded, &opt, path), ALEXNET_ERR_FORMAT,
                    "not a checkpoint");
    ck_assert_ptr_null(loaded);
    ck_assert_ptr_null(opt);

    alexnet_dataset *ds = tiny_dataset(2);
    alexnet_tensor *image = (alexnet_tensor *)&image;
    int32_t label = 9;
    ck_assert_fails(alexnet_dataset_get(ds, 2, &image, &label), ALEXNET_ERR_INVALID_ARGUMENT,
                    "index 2 is out of range");
    ck_assert_ptr_null(image);
    ck_assert_int_eq(label, 0);
    alexnet_dataset_free(ds);
    alexnet_network_free(net);
}
END_TEST

/* Edge inputs get the status their header comment documents, and change nothing. */
START_TEST(edge_inputs_get_their_documented_status)
{
    alexnet_loader_config cfg, untouched;
    memset(&cfg, 0x5A, sizeof cfg);
    untouched = cfg;
    const int bad[][3] = {{0, 8, 8}, {2, 8, 8}, {1, 0, 8}, {1, -1, 8}, {3, 8, 1 << 30}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_fails(alexnet_loader_config_init(&cfg, bad[i][0], bad[i][1], bad[i][2]),
                        ALEXNET_ERR_INVALID_ARGUMENT, "alexnet_loader_config_init");
        ck_assert_mem_eq(&cfg, &untouched, sizeof cfg);
    }

    /* Non-finite logits: NUMERIC naming the place, nothing written. */
    int64_t shape[2] = {2, 3};
    alexnet_tensor *logits = NULL, *probabilities = NULL;
    ck_assert_ok(alexnet_tensor_create(&logits, 2, shape));
    ck_assert_ok(alexnet_tensor_create(&probabilities, 2, shape));
    alexnet_tensor_data(logits)[4] = NAN;
    alexnet_tensor_data(probabilities)[0] = 7.0f;
    ck_assert_fails(alexnet_softmax(logits, probabilities), ALEXNET_ERR_NUMERIC, "[1, 1] is nan");
    alexnet_tensor_data(logits)[4] = INFINITY;
    ck_assert_fails(alexnet_softmax(logits, probabilities), ALEXNET_ERR_NUMERIC, "[1, 1] is inf");
    ck_assert(alexnet_tensor_data(probabilities)[0] == 7.0f);
    alexnet_tensor_data(logits)[4] = 1.0f;
    ck_assert_ok(alexnet_softmax(logits, probabilities));
    ck_assert_float_eq_tol(alexnet_tensor_data(probabilities)[0], 1.0f / 3.0f, 1e-6f);

    /* Colour jitter: grey images are SHAPE, non-finite alphas or components NUMERIC. */
    int64_t rgb[3] = {3, 2, 2}, grey[3] = {1, 2, 2};
    alexnet_tensor *image = NULL, *grey_image = NULL;
    ck_assert_ok(alexnet_tensor_create(&image, 3, rgb));
    ck_assert_ok(alexnet_tensor_create(&grey_image, 3, grey));
    alexnet_color_pca pca = {{1.0f, 0.5f, 0.25f}, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
    float alpha[3] = {0.1f, NAN, 0.1f};
    ck_assert_fails(alexnet_image_color_jitter(grey_image, &pca, alpha), ALEXNET_ERR_SHAPE, "grey");
    ck_assert_fails(alexnet_image_color_jitter(image, &pca, alpha), ALEXNET_ERR_NUMERIC,
                    "component 1 has alpha nan");
    alpha[1] = 0.1f;
    pca.eigenvalues[2] = INFINITY;
    ck_assert_fails(alexnet_image_color_jitter(image, &pca, alpha), ALEXNET_ERR_NUMERIC,
                    "component 2");
    for (int i = 0; i < 12; i++)
        ck_assert(alexnet_tensor_data(image)[i] == 0.0f);
    pca.eigenvalues[2] = 0.25f;
    ck_assert_ok(alexnet_image_color_jitter(image, &pca, alpha));
    ck_assert_float_eq_tol(alexnet_tensor_data(image)[0], 0.1f, 1e-7f);
    const alexnet_tensor *greys[1] = {grey_image};
    ck_assert_fails(alexnet_color_pca_fit(&pca, greys, 1), ALEXNET_ERR_SHAPE, "PCA needs RGB");
    alexnet_tensor_free(logits);
    alexnet_tensor_free(probabilities);
    alexnet_tensor_free(image);
    alexnet_tensor_free(grey_image);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("abi_contract");
    TCase *tc = tcase_create("abi_contract");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_test(tc, network_config_of_any_version);
    tcase_add_test(tc, sgd_config_of_any_version);
    tcase_add_test(tc, schedule_config_of_any_version);
    tcase_add_test(tc, loader_config_of_any_version);
    tcase_add_test(tc, accessors_never_fail_and_leave_the_last_error_alone);
    tcase_add_test(tc, every_output_is_cleared_on_failure);
    tcase_add_test(tc, edge_inputs_get_their_documented_status);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
