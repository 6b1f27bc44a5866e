/* Model files and checkpoints at the edges of numbers and memory: every number read at its full
 * width, counters at the end of their range, files checked against their configuration before
 * anything is allocated, the host's alexnet_limits, and every byte of a real file damaged with the
 * address space capped. */
#include "file_helpers.h"
#include "model_files.h"
#include "network_helpers.h"

#include <stdio.h>
#include <stdlib.h>

static alexnet_network *trained_mini(alexnet_optimizer **opt)
{
    alexnet_network *net = mini_network(15, 0.0f, 5);
    alexnet_sgd_config sgd;
    ck_assert_ok(alexnet_sgd_config_init(&sgd));
    ck_assert_ok(alexnet_optimizer_create(opt, net, &sgd));
    alexnet_schedule_config schedule;
    ck_assert_ok(alexnet_schedule_config_init(&schedule, ALEXNET_SCHEDULE_PLATEAU));
    schedule.patience = 3;
    ck_assert_ok(alexnet_optimizer_set_schedule(*opt, &schedule));
    int32_t labels[4];
    alexnet_tensor *x = labelled_batch(4, 15, labels, 1);
    ck_assert_ok(alexnet_train_step(net, *opt, x, labels, NULL));
    alexnet_tensor_free(x);
    return net;
}

/* A checkpoint of a MINI network after one step, in the test's directory (the path is static:
 * in_dir's buffers rotate). */
static const char *checkpoint_file(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s", in_dir("checkpoint.safetensors"));
    alexnet_optimizer *opt = NULL;
    alexnet_network *net = trained_mini(&opt);
    ck_assert_ok(alexnet_checkpoint_save(net, opt, path));
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return path;
}

/* Writes `source` with one metadata field replaced to `name`; returns its path. */
static const char *edited(const char *source, const char *name, const char *key,
                          const char *inner, const char *field, const char *value)
{
    file_image image = read_image(source);
    set_metadata_field(&image, key, inner, field, value);
    const char *path = in_dir(name);
    write_image(path, &image);
    json_decref(image.header);
    free(image.data);
    return path;
}

static void assert_checkpoint_refused(const char *path, const char *phrase)
{
    alexnet_network *net = (alexnet_network *)&net;
    alexnet_optimizer *opt = (alexnet_optimizer *)&opt;
    ck_assert_fails(alexnet_checkpoint_load(&net, &opt, path), ALEXNET_ERR_FORMAT, phrase);
    ck_assert_ptr_null(net);
    ck_assert_ptr_null(opt);
}

static void assert_model_refused(const char *path, const char *phrase)
{
    alexnet_network *net = (alexnet_network *)&net;
    ck_assert_fails(alexnet_network_load(&net, path), ALEXNET_ERR_FORMAT, phrase);
    ck_assert_ptr_null(net);
    assert_checkpoint_refused(path, phrase);
}

START_TEST(counters_at_the_end_of_their_range_stop_instead_of_overflowing)
{
    const char *source = checkpoint_file();
    const char *path = edited(source, "steps.safetensors", "alexnet.optimizer", NULL, "steps",
                              "9223372036854775807");
    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_checkpoint_load(&net, &opt, path));
    ck_assert_int_eq(alexnet_optimizer_steps(opt), INT64_MAX);
    const double before = param_checksum(net);
    int32_t labels[4];
    alexnet_tensor *x = labelled_batch(4, 15, labels, 2);
    ck_assert_fails(alexnet_train_step(net, opt, x, labels, NULL), ALEXNET_ERR_STATE,
                    "counted 9223372036854775807 steps");
    ck_assert_fails(alexnet_optimizer_step(opt), ALEXNET_ERR_STATE, "alexnet_optimizer_step");
    ck_assert_int_eq(alexnet_optimizer_steps(opt), INT64_MAX);
    ck_assert(param_checksum(net) == before);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);

    path = edited(source, "epochs.safetensors", "alexnet.optimizer", NULL, "epochs",
                  "9223372036854775807");
    ck_assert_ok(alexnet_checkpoint_load(&net, &opt, path));
    ck_assert_fails(alexnet_optimizer_end_epoch(opt, 0.5f, NULL), ALEXNET_ERR_STATE,
                    "counted 9223372036854775807 epochs");
    ck_assert_int_eq(alexnet_optimizer_epochs(opt), INT64_MAX);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);

    /* One more than an int64_t holds is not JSON this reader accepts at all. */
    assert_checkpoint_refused(edited(source, "steps2.safetensors", "alexnet.optimizer", NULL,
                                     "steps", "9223372036854775808"),
                              "alexnet.optimizer");
    assert_checkpoint_refused(edited(source, "steps3.safetensors", "alexnet.optimizer", NULL,
                                     "steps", "-1"),
                              "'steps' is -1");
}
END_TEST

/* Values beyond 32 bits used to be cut to their low bits (4294967324 read as 28). */
START_TEST(numbers_are_read_at_full_width_and_range_checked)
{
    const char *source = checkpoint_file();
    /* key, inner object, field, value written, phrase of the refusal */
    static const char *const cases[][5] = {
        {"alexnet.config", NULL, "in_height", "4294967324", "'in_height' is 4294967324"},
        {"alexnet.config", NULL, "num_classes", "4294967306", "'num_classes' is 4294967306"},
        {"alexnet.config", NULL, "in_channels", "4294967297", "'in_channels' is 4294967297"},
        {"alexnet.config", NULL, "in_width", "1.5", "'in_width' is 1.5"},
        {"alexnet.config", NULL, "dropout", "1e300", "'dropout' must be a finite number"},
        {"alexnet.config", NULL, "in_height", "40000", "config.in_height is 40000"},
        {"alexnet.optimizer", "schedule", "bad_epochs", "4294967296",
         "'bad_epochs' is 4294967296"},
        {"alexnet.optimizer", "schedule", "bad_epochs", "3", "below patience (3)"},
        {"alexnet.optimizer", "schedule", "patience", "2147483648", "'patience' is 2147483648"},
        {"alexnet.optimizer", NULL, "learning_rate", "1e39",
         "'learning_rate' must be a finite number"},
        {"alexnet.optimizer", "schedule", "best_error", "\"low\"",
         "'best_error' must be a finite number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = edited(source, "edited.safetensors", cases[i][0], cases[i][1],
                                  cases[i][2], cases[i][3]);
        if (strcmp(cases[i][0], "alexnet.config") == 0)
            assert_model_refused(path, cases[i][4]); /* and as a checkpoint */
        else
            assert_checkpoint_refused(path, cases[i][4]);
    }

    /* alexnet.seed is a 64-bit counter: 2^64 is refused, not saturated. */
    file_image image = read_image(source);
    json_t *meta = json_object_get(image.header, "__metadata__");
    json_object_set_new(meta, "alexnet.seed", json_string("18446744073709551616"));
    const char *path = in_dir("seed.safetensors");
    write_image(path, &image);
    assert_model_refused(path, "alexnet.seed and alexnet.step must be decimal integers");
    json_object_set_new(meta, "alexnet.seed", json_string("18446744073709551615"));
    write_image(path, &image);
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_load(&net, path));
    alexnet_network_free(net);
    json_decref(image.header);
    free(image.data);
}
END_TEST

/* The fields of format 2 and the preprocessing record get the same checks. */
START_TEST(caffe_fields_and_preprocessing_are_range_checked)
{
    alexnet_optimizer *opt = NULL;
    alexnet_network *trained = trained_mini(&opt);
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_ok(alexnet_network_get_config(trained, &cfg));
    cfg.pool_ceil = 1;
    cfg.lrn_k = 1.5f;
    cfg.init_bias = 0.5f; /* recorded only where it is not the paper's 1 */
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 3));
    alexnet_preprocessing p;
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_PLAIN));
    p.resize = ALEXNET_RESIZE_SHORTER;
    p.resize_side = 32;
    ck_assert_ok(alexnet_network_set_preprocessing(net, &p));
    char source[512];
    snprintf(source, sizeof source, "%s", in_dir("format2.safetensors"));
    ck_assert_ok(alexnet_network_save(net, source));
    alexnet_network_free(net);
    alexnet_network_free(trained);
    alexnet_optimizer_free(opt);
    ck_assert_ok(alexnet_network_load(&net, source));
    alexnet_network_free(net);

    /* key, inner object, field, value written, phrase of the refusal */
    static const char *const cases[][5] = {
        {"alexnet.config", NULL, "pool_ceil", "2", "config.pool_ceil is 2"},
        {"alexnet.config", "lrn", "size", "4294967301", "'size' is 4294967301"},
        {"alexnet.config", "lrn", "k", "0", "config.lrn_k is 0"},
        {"alexnet.config", "lrn", "beta", "\"high\"", "'beta' must be a finite number"},
        {"alexnet.config", NULL, "activation", "\"sigmoid\"",
         "'activation' is not one of relu, tanh"},
        {"alexnet.config", NULL, "pool_size", "7", "config.pool_size is 7"},
        {"alexnet.config", NULL, "init_bias", "1e300", "'init_bias' must be a finite number"},
        {"alexnet.format", NULL, NULL, "3", "reads formats 1 and 2"},
        {"alexnet.preprocessing", NULL, "resize", "\"sideways\"", "'resize' is not one of none"},
        {"alexnet.preprocessing", NULL, "side", "0", "preprocessing.resize_side is 0"},
        {"alexnet.preprocessing", NULL, "channels", "\"bgr\"",
         "asks for BGR input of a network of 1 input channel"},
        {"alexnet.preprocessing", NULL, "scale", "-1", "preprocessing.scale is -1"},
        {"alexnet.preprocessing", NULL, "mean", "7", "'mean' is not a list of 3 numbers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = in_dir("edited.safetensors");
        file_image image = read_image(source);
        if (cases[i][2] == NULL) {
            json_object_set_new(json_object_get(image.header, "__metadata__"), cases[i][0],
                                json_string(cases[i][3]));
        } else if (strcmp(cases[i][2], "mean") == 0) { /* a list: replace the whole record */
            json_object_set_new(json_object_get(image.header, "__metadata__"), cases[i][0],
                                json_string("{\"resize\":\"none\",\"side\":0,\"channels\":"
                                            "\"rgb\",\"scale\":1,\"mean\":7,\"std\":[1,1,1]}"));
        } else {
            set_metadata_field(&image, cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
        }
        write_image(path, &image);
        json_decref(image.header);
        free(image.data);
        alexnet_network *refused = (alexnet_network *)&refused;
        ck_assert_fails(alexnet_network_load(&refused, path), ALEXNET_ERR_FORMAT, cases[i][4]);
        ck_assert_ptr_null(refused);
    }
}
END_TEST

/* A 1 MB file whose configuration claims 1,000,000 classes used to allocate the 2 GB network
 * before its tensors were compared with it. Now the comparison comes first: with the address space
 * capped far below the claim, the answer is FORMAT naming the mismatch, not OUT_OF_MEMORY. */
START_TEST(a_small_file_claiming_a_huge_network_allocates_nothing)
{
    const char *source = checkpoint_file();
    const char *path = edited(source, "huge.safetensors", "alexnet.config", NULL, "num_classes",
                              "1000000");
    const bool capped = limit_address_space((size_t)64 << 20); /* not under AddressSanitizer */
    assert_model_refused(path, "tensor 'fc8.weight' has shape [10, 512]");
    if (capped) { /* and loading a valid file still works under the cap */
        alexnet_network *net = NULL;
        ck_assert_ok(alexnet_network_load(&net, source));
        alexnet_network_free(net);
    }
}
END_TEST

/* A valid file whose network does not fit in memory is OUT_OF_MEMORY, not FORMAT: the file is
 * fine, the host is short of memory. */
START_TEST(running_out_of_memory_loading_is_reported_as_such)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_height = cfg.in_width = 15;
    cfg.num_classes = 20000; /* fc8: 39 MiB of weights */
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 1));
    const char *path = in_dir("big.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    alexnet_network_free(net);
    if (!limit_address_space((size_t)16 << 20))
        return; /* not under AddressSanitizer */
    net = (alexnet_network *)&net;
    ck_assert_fails(alexnet_network_load(&net, path), ALEXNET_ERR_OUT_OF_MEMORY, "big.safetensors");
    ck_assert_ptr_null(net);
}
END_TEST

START_TEST(the_host_limits_the_size_of_models)
{
    const char *source = checkpoint_file();
    alexnet_limits limits;
    ck_assert_ok(alexnet_limits_init(&limits));
    ck_assert_int_eq(limits.max_model_bytes, (int64_t)4 << 30);
    limits.max_model_bytes = 4096;
    ck_assert_ok(alexnet_limits_set(&limits));
    assert_model_refused(source, "alexnet_limits.max_model_bytes");
    alexnet_network *net = mini_network(15, 0.0f, 9);
    const double before = param_checksum(net);
    ck_assert_fails(alexnet_network_load_weights(net, source), ALEXNET_ERR_FORMAT,
                    "more than the");
    ck_assert(param_checksum(net) == before);
    ck_assert_ok(alexnet_limits_set(NULL)); /* the defaults again */
    ck_assert_ok(alexnet_network_load_weights(net, source));
    alexnet_network_free(net);
}
END_TEST

START_TEST(limits_are_validated_and_copied_whole)
{
    alexnet_limits limits, back;
    ck_assert_ok(alexnet_limits_init(&limits));
    limits.max_image_pixels = 1000;
    limits.max_image_side = 50;
    ck_assert_ok(alexnet_limits_set(&limits));
    memset(&back, 0xAB, sizeof back);
    back.struct_size = sizeof back;
    ck_assert_ok(alexnet_limits_get(&back));
    ck_assert_mem_eq(&back, &limits, sizeof back);

    alexnet_limits bad = limits;
    bad.max_image_side = 16385;
    ck_assert_fails(alexnet_limits_set(&bad), ALEXNET_ERR_INVALID_ARGUMENT,
                    "max_image_side is 16385; it must be 1 to 16384");
    bad = limits;
    bad.max_model_bytes = 0;
    ck_assert_fails(alexnet_limits_set(&bad), ALEXNET_ERR_INVALID_ARGUMENT, "max_model_bytes is 0");
    bad = limits;
    bad.struct_size = sizeof(size_t) + sizeof(int64_t);
    ck_assert_fails(alexnet_limits_set(&bad), ALEXNET_ERR_INVALID_ARGUMENT, "alexnet_limits");
    ck_assert_fails(alexnet_limits_get(NULL), ALEXNET_ERR_INVALID_ARGUMENT, "'limits' is NULL");
    /* Nothing was changed by the refused calls. */
    ck_assert_ok(alexnet_limits_get(&back));
    ck_assert_int_eq(back.max_image_side, 50);
    ck_assert_ok(alexnet_limits_set(NULL));
    ck_assert_ok(alexnet_limits_get(&back));
    ck_assert_int_eq(back.max_image_side, 16384);
    ck_assert_int_eq(back.max_image_pixels, 67108864);
}
END_TEST

START_TEST(checkpoint_load_clears_both_outputs_on_every_failure)
{
    const char *source = checkpoint_file();
    alexnet_network *net = (alexnet_network *)&net;
    ck_assert_fails(alexnet_checkpoint_load(&net, NULL, source), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'opt' is NULL");
    ck_assert_ptr_null(net);
    alexnet_optimizer *opt = (alexnet_optimizer *)&opt;
    ck_assert_fails(alexnet_checkpoint_load(NULL, &opt, source), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'net' is NULL");
    ck_assert_ptr_null(opt);
    net = (alexnet_network *)&net;
    opt = (alexnet_optimizer *)&opt;
    ck_assert_fails(alexnet_checkpoint_load(&net, &opt, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'path' is NULL");
    ck_assert_ptr_null(net);
    ck_assert_ptr_null(opt);
}
END_TEST

/* ---- every byte of a real file --------------------------------------------------------------- */

typedef struct mutation_counts {
    int loaded, refused;
} mutation_counts;

/* Loads `bytes` as a new network and as a checkpoint, and (with `existing`) as weights into an
 * existing network, which must be unchanged on failure: each either works or is FORMAT with every
 * output cleared. OUT_OF_MEMORY would mean the file made the library allocate beyond the
 * address-space budget. */
static void load_every_way(const uint8_t *bytes, size_t size, const char *valid_path,
                           alexnet_network *existing, double checksum, mutation_counts *counts)
{
    const char *path = in_dir("mutant.safetensors");
    write_bytes(path, bytes, size);
    alexnet_status st;
    if (existing) {
        st = alexnet_network_load_weights(existing, path);
        ck_assert_msg(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT, "load_weights: %d: %s", st,
                      alexnet_last_error());
        if (st == ALEXNET_OK) /* the weights of the damaged file: back to the valid ones */
            ck_assert_ok(alexnet_network_load_weights(existing, valid_path));
        ck_assert(param_checksum(existing) == checksum);
    }
    alexnet_network *net = (alexnet_network *)&net;
    st = alexnet_network_load(&net, path);
    ck_assert_msg(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT, "load: %d: %s", st,
                  alexnet_last_error());
    ck_assert(st == ALEXNET_OK || net == NULL);
    alexnet_network_free(st == ALEXNET_OK ? net : NULL);
    alexnet_optimizer *opt = (alexnet_optimizer *)&opt;
    net = (alexnet_network *)&net;
    st = alexnet_checkpoint_load(&net, &opt, path);
    ck_assert_msg(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT, "checkpoint: %d: %s", st,
                  alexnet_last_error());
    ck_assert(st == ALEXNET_OK || (net == NULL && opt == NULL));
    if (st == ALEXNET_OK) {
        alexnet_optimizer_free(opt);
        alexnet_network_free(net);
        counts->loaded++;
    } else {
        counts->refused++;
    }
}

/* Every header byte replaced (by '9', 0xFF or ' ' in turn), 300 data bytes flipped, truncations at
 * every header byte and through the data, with the address space capped at what is used now plus
 * 32 MiB plus twice the file: a file that made the loader allocate what its header claims rather
 * than what it holds would fail with OUT_OF_MEMORY. */
START_TEST(every_byte_of_a_checkpoint_damaged)
{
    const char *source = checkpoint_file();
    size_t size;
    uint8_t *valid = read_bytes(source, &size);
    size_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | valid[i];
    header += 8;
    ck_assert_uint_lt(header, size);
    alexnet_network *existing = NULL;
    ck_assert_ok(alexnet_network_load(&existing, source));
    const double checksum = param_checksum(existing);
    limit_address_space(((size_t)32 << 20) + 2 * size);
    uint8_t *mutant = malloc(size);
    mutation_counts counts = {0, 0};
    static const uint8_t replacements[] = {'9', 0xFF, ' '};
    for (size_t at = 0; at < header; at++) {
        memcpy(mutant, valid, size);
        mutant[at] = mutant[at] == replacements[at % 3] ? '0' : replacements[at % 3];
        load_every_way(mutant, size, source, at % 4 == 0 ? existing : NULL, checksum, &counts);
    }
    const size_t stride = (size - header) / 300 + 1;
    for (size_t at = header; at < size; at += stride) {
        memcpy(mutant, valid, size);
        mutant[at] ^= 0x40;
        load_every_way(mutant, size, source, existing, checksum, &counts);
    }
    for (size_t length = 0; length < size; length += length < header ? 1 : stride)
        load_every_way(valid, length, source, length % 4 == 0 ? existing : NULL, checksum,
                       &counts);
    /* Both outcomes were reached many times: data damage loads, header damage mostly not. */
    ck_assert_int_ge(counts.loaded, 300);
    ck_assert_int_gt(counts.refused, (int)header);
    free(mutant);
    free(valid);
    alexnet_network_free(existing);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile_models");
    TCase *tc = tcase_create("hostile_models");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, counters_at_the_end_of_their_range_stop_instead_of_overflowing);
    tcase_add_test(tc, numbers_are_read_at_full_width_and_range_checked);
    tcase_add_test(tc, caffe_fields_and_preprocessing_are_range_checked);
    tcase_add_test(tc, a_small_file_claiming_a_huge_network_allocates_nothing);
    tcase_add_test(tc, running_out_of_memory_loading_is_reported_as_such);
    tcase_add_test(tc, the_host_limits_the_size_of_models);
    tcase_add_test(tc, limits_are_validated_and_copied_whole);
    tcase_add_test(tc, checkpoint_load_clears_both_outputs_on_every_failure);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create_slow("hostile_models_slow"); /* thousands of loads */
    tcase_add_checked_fixture(slow, make_dir, remove_dir);
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, every_byte_of_a_checkpoint_damaged);
    suite_add_tcase(s, slow);
    return run_suite(s);
}
