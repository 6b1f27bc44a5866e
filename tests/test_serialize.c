/* Weight files and checkpoints: round trips, exact resume, hostile files (each a clear error and an
 * unchanged network), crash safety under SIGKILL and failed writes. */
#include "file_helpers.h"
#include "model_files.h"
#include "network_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static alexnet_tensor *logits_of(alexnet_network *net, alexnet_tensor *x)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_ok(alexnet_network_get_config(net, &cfg));
    int64_t shape[2] = {alexnet_tensor_dim(x, 0), cfg.num_classes};
    alexnet_tensor *y = NULL;
    ck_assert_ok(alexnet_tensor_create(&y, 2, shape));
    ck_assert_ok(alexnet_network_forward(net, x, y, 0));
    return y;
}

static const char *metadata_of(const char *path, const char *key, file_image *image)
{
    *image = read_image(path);
    return json_string_value(json_object_get(json_object_get(image->header, "__metadata__"), key));
}

/* Caffe's pooling and LRN constants and the preprocessing travel with the file and with shares;
 * a network that uses neither is still written in format 1, which libalexnet 1.0 reads. */
START_TEST(caffe_settings_and_preprocessing_travel_with_the_network)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_channels = 3;
    cfg.in_height = cfg.in_width = 30;
    alexnet_network *plain = NULL, *net = NULL, *loaded = NULL, *share = NULL;
    ck_assert_ok(alexnet_network_create(&plain, &cfg, 5));
    alexnet_preprocessing p, got;
    ck_assert_ok(alexnet_preprocessing_init(&got, ALEXNET_PREPROCESSING_PLAIN));
    ck_assert_ok(alexnet_network_get_preprocessing(plain, &got)); /* the default for RGB */
    ck_assert_int_eq(got.resize, ALEXNET_RESIZE_SHORTER);
    ck_assert_int_eq(got.resize_side, 34);
    ck_assert_float_eq(got.mean[0], 0.485f);
    const char *plain_path = in_dir("plain.safetensors");
    ck_assert_ok(alexnet_network_save(plain, plain_path));
    file_image image;
    ck_assert_str_eq(metadata_of(plain_path, "alexnet.format", &image), "1");
    ck_assert_ptr_null(json_object_get(json_object_get(image.header, "__metadata__"),
                                       "alexnet.preprocessing"));
    ck_assert_ptr_null(strstr(json_string_value(json_object_get(
                                  json_object_get(image.header, "__metadata__"), "alexnet.config")),
                              "lrn"));
    json_decref(image.header);
    free(image.data);

    cfg.pool_ceil = 1;
    cfg.lrn_alpha = 1e-4f;
    cfg.lrn_k = 1.0f;
    cfg.lrn_size = 3;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 5));
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_CAFFE));
    p.resize_side = 40;
    ck_assert_ok(alexnet_network_set_preprocessing(net, &p));
    const char *path = in_dir("caffe.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    ck_assert_str_eq(metadata_of(path, "alexnet.format", &image), "2");
    json_decref(image.header);
    free(image.data);

    ck_assert_ok(alexnet_network_load(&loaded, path));
    alexnet_config back;
    ck_assert_ok(alexnet_config_init(&back, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(loaded, &back));
    ck_assert_int_eq(back.pool_ceil, 1);
    ck_assert_int_eq(back.lrn_size, 3);
    ck_assert_float_eq(back.lrn_alpha, 1e-4f);
    ck_assert_float_eq(back.lrn_k, 1.0f);
    ck_assert_ok(alexnet_network_get_preprocessing(loaded, &got));
    ck_assert_mem_eq(&got, &p, sizeof p);
    int64_t x_shape[4] = {2, 3, 30, 30};
    alexnet_tensor *x = NULL;
    ck_assert_ok(alexnet_tensor_create(&x, 4, x_shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(x); i++) /* any values: only equality counts */
        alexnet_tensor_data(x)[i] = (float)((i * 7919) % 1013) / 1013.0f - 0.5f;
    alexnet_tensor *a = logits_of(net, x), *b = logits_of(loaded, x);
    ck_assert_mem_eq(alexnet_tensor_data(a), alexnet_tensor_data(b), sizeof(float) * 20);
    ck_assert_ok(alexnet_network_share(&share, loaded));
    memset(&got, 0, sizeof got);
    got.struct_size = sizeof got;
    ck_assert_ok(alexnet_network_get_preprocessing(share, &got));
    ck_assert_mem_eq(&got, &p, sizeof p);

    /* NULL forgets it; a grey network cannot take BGR. */
    ck_assert_ok(alexnet_network_set_preprocessing(loaded, NULL));
    ck_assert_ok(alexnet_network_get_preprocessing(loaded, &got));
    ck_assert_int_eq(got.bgr, 0);
    ck_assert_int_eq(got.resize_side, 34);
    alexnet_network *grey = NULL;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_ok(alexnet_network_create(&grey, &cfg, 5));
    ck_assert_ok(alexnet_network_get_preprocessing(grey, &got));
    ck_assert_int_eq(got.resize, ALEXNET_RESIZE_SHORTER);
    ck_assert_int_eq(got.resize_side, 28);
    ck_assert_float_eq(got.scale, 1.0f);
    ck_assert_float_eq(got.mean[0], 0.0f);
    ck_assert_fails(alexnet_network_set_preprocessing(grey, &p), ALEXNET_ERR_INVALID_ARGUMENT,
                    "BGR input asked of a network of 1 input channel");
    got.struct_size = 4;
    ck_assert_fails(alexnet_network_get_preprocessing(grey, &got), ALEXNET_ERR_INVALID_ARGUMENT,
                    "struct_size is 4");

    alexnet_tensor_free(x);
    alexnet_tensor_free(a);
    alexnet_tensor_free(b);
    alexnet_network_free(grey);
    alexnet_network_free(share);
    alexnet_network_free(loaded);
    alexnet_network_free(net);
    alexnet_network_free(plain);
}
END_TEST

/* The paper's switches travel with the file: tanh, no LRN and 2x2 pooling make format 2 (a
 * reader that does not know them must not build another network); the bias constant, which
 * changes no computation, is recorded in format 1. */
START_TEST(paper_switches_travel_with_the_network)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.init_bias = 0.0f;
    alexnet_network *net = NULL, *loaded = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 8));
    const char *path = in_dir("bias0.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    file_image image;
    ck_assert_str_eq(metadata_of(path, "alexnet.format", &image), "1");
    json_decref(image.header);
    free(image.data);
    ck_assert_ok(alexnet_network_load(&loaded, path));
    alexnet_config back;
    ck_assert_ok(alexnet_config_init(&back, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(loaded, &back));
    ck_assert_float_eq(back.init_bias, 0.0f);
    alexnet_network_free(loaded);
    alexnet_network_free(net);

    cfg.activation = ALEXNET_ACTIVATION_TANH;
    cfg.lrn = 0;
    cfg.pool_size = 2;
    cfg.init_bias = 0.5f;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 8));
    path = in_dir("switches.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    ck_assert_str_eq(metadata_of(path, "alexnet.format", &image), "2");
    json_error_t error;
    json_t *config = json_loads(json_string_value(json_object_get(
                                    json_object_get(image.header, "__metadata__"), "alexnet.config")),
                                0, &error);
    ck_assert_str_eq(json_string_value(json_object_get(config, "activation")), "tanh");
    ck_assert(json_is_false(json_object_get(config, "lrn")));
    ck_assert_int_eq(json_integer_value(json_object_get(config, "pool_size")), 2);
    ck_assert_double_eq(json_real_value(json_object_get(config, "init_bias")), 0.5);
    json_decref(config);
    json_decref(image.header);
    free(image.data);
    ck_assert_ok(alexnet_network_load(&loaded, path));
    ck_assert_ok(alexnet_network_get_config(loaded, &back));
    ck_assert_mem_eq(&back, &cfg, sizeof cfg);
    int64_t x_shape[4] = {3, 1, 28, 28};
    alexnet_tensor *x = NULL;
    ck_assert_ok(alexnet_tensor_create(&x, 4, x_shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(x); i++)
        alexnet_tensor_data(x)[i] = (float)((i * 7919) % 1013) / 1013.0f - 0.5f;
    alexnet_tensor *a = logits_of(net, x), *b = logits_of(loaded, x);
    ck_assert_mem_eq(alexnet_tensor_data(a), alexnet_tensor_data(b), sizeof(float) * 30);
    /* The weights do not fit the paper's network: loading them into one changes nothing. */
    alexnet_network *paper = NULL;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    ck_assert_ok(alexnet_network_create(&paper, &cfg, 8));
    ck_assert_fails(alexnet_network_load_weights(paper, path), ALEXNET_ERR_FORMAT,
                    "tensor 'fc6.weight' has shape [512, 576]; the network's fc6.weight is "
                    "[512, 256]");
    alexnet_tensor_free(x);
    alexnet_tensor_free(a);
    alexnet_tensor_free(b);
    alexnet_network_free(paper);
    alexnet_network_free(loaded);
    alexnet_network_free(net);
}
END_TEST

START_TEST(save_then_load_is_bit_identical)
{
    const alexnet_arch arches[] = {ALEXNET_ARCH_MINI, ALEXNET_ARCH_TORCHVISION};
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, arches[_i]));
    cfg.num_classes = 17;
    cfg.dropout = 0.25f;
    alexnet_network *net = NULL, *loaded = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, 99));
    const char *path = in_dir("net.safetensors");
    ck_assert_ok(alexnet_network_save(net, path));
    ck_assert_int_eq(count_files(), 1); /* no temporary file left behind */
    ck_assert_ok(alexnet_network_load(&loaded, path));
    ck_assert(same_weights(net, loaded));
    alexnet_config back;
    ck_assert_ok(alexnet_config_init(&back, ALEXNET_ARCH_PAPER));
    ck_assert_ok(alexnet_network_get_config(loaded, &back));
    ck_assert_mem_eq(&back, &cfg, sizeof cfg);

    int64_t shape[4] = {2, cfg.in_channels, cfg.in_height, cfg.in_width};
    alexnet_tensor *x = NULL;
    ck_assert_ok(alexnet_tensor_create(&x, 4, shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(x); i++)
        alexnet_tensor_data(x)[i] = (float)(i % 97) / 97.0f;
    alexnet_tensor *a = logits_of(net, x), *b = logits_of(loaded, x);
    ck_assert_mem_eq(alexnet_tensor_data(a), alexnet_tensor_data(b), sizeof(float) * 34);

    /* load_weights into a fresh network of the same shape. */
    alexnet_network *other = NULL;
    ck_assert_ok(alexnet_network_create(&other, &cfg, 1));
    ck_assert(!same_weights(net, other));
    ck_assert_ok(alexnet_network_load_weights(other, path));
    ck_assert(same_weights(net, other));

    alexnet_tensor_free(x);
    alexnet_tensor_free(a);
    alexnet_tensor_free(b);
    alexnet_network_free(net);
    alexnet_network_free(loaded);
    alexnet_network_free(other);
}
END_TEST

static void train_steps(alexnet_network *net, alexnet_optimizer *opt, int from, int to)
{
    for (int step = from; step < to; step++) {
        int32_t labels[6];
        alexnet_tensor *x = labelled_batch(6, 20, labels, (uint64_t)step);
        ck_assert_ok(alexnet_train_step(net, opt, x, labels, NULL));
        alexnet_tensor_free(x);
    }
}

START_TEST(checkpoint_resume_is_bit_identical)
{
    alexnet_sgd_config sgd;
    ck_assert_ok(alexnet_sgd_config_init(&sgd));
    sgd.learning_rate = 0.02f;
    alexnet_schedule_config schedule;
    ck_assert_ok(alexnet_schedule_config_init(&schedule, ALEXNET_SCHEDULE_PLATEAU));
    schedule.patience = 2;

    /* Uninterrupted: 8 steps, an epoch boundary after step 4. */
    alexnet_network *a = mini_network(20, 0.5f, 31);
    alexnet_optimizer *oa = NULL;
    ck_assert_ok(alexnet_optimizer_create(&oa, a, &sgd));
    ck_assert_ok(alexnet_optimizer_set_schedule(oa, &schedule));
    train_steps(a, oa, 0, 4);
    ck_assert_ok(alexnet_optimizer_end_epoch(oa, 0.7f, NULL));
    train_steps(a, oa, 4, 8);
    ck_assert_ok(alexnet_optimizer_end_epoch(oa, 0.8f, NULL));

    /* Interrupted after step 5: checkpoint, free everything, resume. */
    alexnet_network *b = mini_network(20, 0.5f, 31);
    alexnet_optimizer *ob = NULL;
    ck_assert_ok(alexnet_optimizer_create(&ob, b, &sgd));
    ck_assert_ok(alexnet_optimizer_set_schedule(ob, &schedule));
    train_steps(b, ob, 0, 4);
    ck_assert_ok(alexnet_optimizer_end_epoch(ob, 0.7f, NULL));
    train_steps(b, ob, 4, 5);
    const char *path = in_dir("checkpoint.safetensors");
    ck_assert_ok(alexnet_checkpoint_save(b, ob, path));
    alexnet_optimizer_free(ob);
    alexnet_network_free(b);
    b = NULL;
    ob = NULL;
    ck_assert_ok(alexnet_checkpoint_load(&b, &ob, path));
    ck_assert_int_eq(alexnet_optimizer_steps(ob), 5);
    ck_assert_int_eq(alexnet_optimizer_epochs(ob), 1);
    train_steps(b, ob, 5, 8);
    ck_assert_ok(alexnet_optimizer_end_epoch(ob, 0.8f, NULL));

    ck_assert(same_weights(a, b));
    ck_assert_float_eq(alexnet_optimizer_learning_rate(oa), alexnet_optimizer_learning_rate(ob));
    /* The plateau history came back too: one more stalled epoch decays both alike. */
    int changed_a, changed_b;
    ck_assert_ok(alexnet_optimizer_end_epoch(oa, 0.9f, &changed_a));
    ck_assert_ok(alexnet_optimizer_end_epoch(ob, 0.9f, &changed_b));
    ck_assert_int_eq(changed_a, 1);
    ck_assert_int_eq(changed_b, 1);

    /* A checkpoint is also a weight file. */
    alexnet_network *c = NULL;
    ck_assert_ok(alexnet_network_load(&c, path));
    alexnet_network *d = mini_network(20, 0.5f, 1);
    ck_assert_ok(alexnet_network_load_weights(d, path));
    ck_assert(same_weights(c, d));

    alexnet_optimizer_free(oa);
    alexnet_optimizer_free(ob);
    alexnet_network_free(a);
    alexnet_network_free(b);
    alexnet_network_free(c);
    alexnet_network_free(d);
}
END_TEST

/* ---- hostile files, made from a valid one ---------------------------------------------------- */

/* The valid file, and the network whose weights it holds. */
static const char *valid_file(void)
{
    const char *path = in_dir("valid.safetensors");
    alexnet_network *net = mini_network(15, 0.0f, 5);
    ck_assert_ok(alexnet_network_save(net, path));
    alexnet_network_free(net);
    return path;
}

/* Loads `path` into a network: must fail with FORMAT naming `phrase`, changing nothing; and
 * alexnet_network_load must fail the same way. */
static void assert_rejected(const char *path, alexnet_status status, const char *phrase)
{
    alexnet_network *net = mini_network(15, 0.0f, 6);
    double before = param_checksum(net);
    ck_assert_fails(alexnet_network_load_weights(net, path), status, phrase);
    ck_assert(param_checksum(net) == before);
    alexnet_network *loaded = (alexnet_network *)&before;
    ck_assert_int_eq(alexnet_network_load(&loaded, path), status);
    ck_assert_ptr_null(loaded);
    alexnet_network_free(net);
}

enum {
    EMPTY,
    SHORT,
    HEADER_PAST_END,
    HEADER_2_63,
    HEADER_OVER_LIMIT,
    NOT_JSON,
    NOT_OBJECT,
    DUPLICATE_KEY,
    WRONG_DTYPE,
    UNKNOWN_DTYPE,
    WRONG_SHAPE,
    BYTES_MISMATCH,
    OFFSETS_PAST_END,
    OVERLAP,
    GAP,
    TRAILING,
    MISSING,
    UNKNOWN_TENSOR,
    BOTH_NAMES,
    METADATA_NOT_STRING,
    NEGATIVE_SHAPE,
    OVERFLOWING_SHAPE,
    NINE_DIMENSIONS,
    PYTORCH_ZIP,
    PYTORCH_PICKLE,
    HOSTILE_CASES
};

START_TEST(hostile_files_are_rejected_and_change_nothing)
{
    const char *valid = valid_file();
    const char *path = in_dir("hostile.safetensors");
    file_image image = read_image(valid);
    json_t *h = image.header;
    json_t *conv1 = json_object_get(h, "conv1.weight");
    json_t *last = json_object_get(h, "fc8.bias");
    const size_t size = image.data_size;
    unsigned char zeros[64] = {0};
    const char *phrase = NULL;
    switch (_i) {
    case EMPTY:
        fclose(fopen(path, "wb"));
        phrase = "is 0 bytes, too short";
        break;
    case SHORT: {
        FILE *f = fopen(path, "wb");
        fwrite("\x10\x00\x00", 1, 3, f);
        fclose(f);
    }
        phrase = "is 3 bytes, too short";
        break;
    case HEADER_PAST_END:
        write_raw(path, 100, "{}", 2, NULL, 0);
        phrase = "header length 100 runs past the end";
        break;
    case HEADER_2_63:
        write_raw(path, (uint64_t)1 << 63, "{}", 2, NULL, 0);
        phrase = "header length 9223372036854775808 exceeds the limit";
        break;
    case HEADER_OVER_LIMIT:
        write_raw(path, 100000001, "{}", 2, NULL, 0);
        phrase = "exceeds the limit of 100000000";
        break;
    case NOT_JSON:
        write_raw(path, 12, "{not json!!}", 12, NULL, 0);
        phrase = "not valid JSON";
        break;
    case NOT_OBJECT:
        write_raw(path, 5, "[1,2]", 5, NULL, 0);
        phrase = "does not start with '{'";
        break;
    case DUPLICATE_KEY: {
        const char *text = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                           "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        write_raw(path, strlen(text), text, strlen(text), zeros, 4);
        phrase = "duplicate object key";
        break;
    }
    case WRONG_DTYPE:
        json_object_set_new(conv1, "dtype", json_string("I32"));
        write_image(path, &image);
        phrase = "tensor 'conv1.weight' has dtype I32; libalexnet reads F32 only";
        break;
    case UNKNOWN_DTYPE:
        json_object_set_new(conv1, "dtype", json_string("F32X"));
        write_image(path, &image);
        phrase = "unknown dtype \"F32X\"";
        break;
    case WRONG_SHAPE:
        json_object_set_new(conv1, "shape", json_pack("[i, i, i, i]", 16, 2, 3, 3));
        write_image(path, &image);
        phrase = "has shape [16, 2, 3, 3]; the network's conv1.weight is "
                 "[32, 1, 3, 3]";
        break;
    case BYTES_MISMATCH:
        json_object_set_new(conv1, "shape", json_pack("[i, i, i, i]", 64, 1, 3, 2));
        write_image(path, &image);
        phrase = "1152 bytes of data, but its shape";
        break;
    case OFFSETS_PAST_END:
        set_offsets(last, (long long)size - 40, (long long)size + 40);
        json_object_set_new(last, "shape", json_pack("[i]", 20));
        write_image(path, &image);
        phrase = "offsets out of range";
        break;
    case OVERLAP: {
        json_t *b = json_object_get(h, "conv1.bias");
        json_int_t begin =
            json_integer_value(json_array_get(json_object_get(b, "data_offsets"), 0));
        set_offsets(b, begin - 4, begin + 128 - 4);
        write_image(path, &image);
        phrase = "overlapping data";
        break;
    }
    case GAP: {
        json_t *b = json_object_get(h, "conv1.bias");
        json_int_t begin =
            json_integer_value(json_array_get(json_object_get(b, "data_offsets"), 0));
        set_offsets(b, begin + 4, begin + 128 + 4);
        write_image(path, &image);
        phrase = "a gap in the data";
        break;
    }
    case TRAILING:
        image.data_size += 8;
        write_image(path, &image);
        phrase = "trailing bytes";
        break;
    case MISSING:
        json_object_del(h, "fc8.bias");
        image.data_size -= 40;
        write_image(path, &image);
        phrase = "has no tensor for fc8.bias (or classifier.6.bias)";
        break;
    case UNKNOWN_TENSOR: {
        json_t *extra = json_pack("{s:s, s:[i]}", "dtype", "F32", "shape", 1);
        set_offsets(extra, (long long)size, (long long)size + 4);
        json_object_set_new(h, "conv6.weight", extra);
        memset(image.data + size, 0, 4);
        image.data_size += 4;
        write_image(path, &image);
        phrase = "tensor 'conv6.weight' is not a parameter of this network";
        break;
    }
    case BOTH_NAMES: {
        json_t *extra = json_pack("{s:s, s:[i]}", "dtype", "F32", "shape", 32);
        set_offsets(extra, (long long)size, (long long)size + 128);
        json_object_set_new(h, "features.0.bias", extra);
        image.data = realloc(image.data, size + 128);
        memset(image.data + size, 0, 128);
        image.data_size += 128;
        write_image(path, &image);
        phrase = "both name parameter conv1.bias";
        break;
    }
    case METADATA_NOT_STRING:
        json_object_set_new(json_object_get(h, "__metadata__"), "alexnet.format", json_integer(1));
        write_image(path, &image);
        phrase = "metadata entry 'alexnet.format' is not a string";
        break;
    case NEGATIVE_SHAPE:
        json_object_set_new(conv1, "shape", json_pack("[i, i, i, i]", -64, 1, 3, 3));
        write_image(path, &image);
        phrase = "not a non-negative integer";
        break;
    case OVERFLOWING_SHAPE:
        json_object_set_new(
            conv1, "shape",
            json_pack("[I, I, I]", (json_int_t)1 << 40, (json_int_t)1 << 40, (json_int_t)1 << 40));
        write_image(path, &image);
        phrase = "overflows 64 bits";
        break;
    case NINE_DIMENSIONS:
        json_object_set_new(conv1, "shape",
                            json_pack("[i,i,i,i,i,i,i,i,i]", 64, 1, 3, 3, 1, 1, 1, 1, 1));
        write_image(path, &image);
        phrase = "9 dimensions; at most 8";
        break;
    case PYTORCH_ZIP: { /* the start of what torch.save writes since PyTorch 1.6 */
        static const unsigned char zip[] = {'P', 'K', 3, 4, 0,   0,   8,   8,   0,   0,   0,   0,
                                            0,   0,   0, 0, 'a', 'r', 'c', 'h', 'i', 'v', 'e', '/'};
        write_bytes(path, zip, sizeof zip);
    }
        phrase = "is a PyTorch file (torch.save's zip or pickle format";
        break;
    case PYTORCH_PICKLE: { /* a legacy torch.save: a pickle, protocol 2 */
        static const unsigned char pickle[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                               0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
        write_bytes(path, pickle, sizeof pickle);
    }
        phrase = "convert it with tools/convert_torchvision.py";
        break;
    }
    ck_assert_ptr_nonnull(phrase);
    assert_rejected(path, ALEXNET_ERR_FORMAT, phrase);
    json_decref(image.header);
    free(image.data);
}
END_TEST

START_TEST(missing_files_and_wrong_kinds_are_reported)
{
    alexnet_network *net = mini_network(15, 0.0f, 7), *loaded = NULL;
    alexnet_optimizer *opt = NULL;
    ck_assert_fails(alexnet_network_load_weights(net, in_dir("absent.safetensors")), ALEXNET_ERR_IO,
                    "No such file or directory");
    ck_assert_fails(alexnet_network_load_weights(net, dir), ALEXNET_ERR_IO, "not a regular file");
    ck_assert_fails(alexnet_network_save(net, "/nonexistent-dir/x.safetensors"), ALEXNET_ERR_IO,
                    "cannot create a file next to '/nonexistent-dir/x.safetensors'");
    /* A PyTorch-style file without our metadata: load_weights only. */
    file_image image = read_image(valid_file());
    json_object_del(image.header, "__metadata__");
    write_image(in_dir("plain.safetensors"), &image);
    ck_assert_ok(alexnet_network_load_weights(net, in_dir("plain.safetensors")));
    ck_assert_fails(alexnet_network_load(&loaded, in_dir("plain.safetensors")), ALEXNET_ERR_FORMAT,
                    "call alexnet_network_load_weights");
    /* A weights file is no checkpoint. */
    ck_assert_fails(alexnet_checkpoint_load(&loaded, &opt, valid_file()), ALEXNET_ERR_FORMAT,
                    "it is not a checkpoint");
    ck_assert_ptr_null(loaded);
    ck_assert_ptr_null(opt);
    /* A network of another shape. */
    alexnet_network *big = mini_network(28, 0.0f, 7);
    ck_assert_fails(alexnet_network_load_weights(big, valid_file()), ALEXNET_ERR_FORMAT,
                    "tensor 'fc6.weight' has shape [512, 64]; the network's fc6.weight is "
                    "[512, 256]");
    ck_assert_fails(alexnet_network_save(NULL, "x"), ALEXNET_ERR_INVALID_ARGUMENT, "'net' is NULL");
    ck_assert_fails(alexnet_network_load(NULL, "x"), ALEXNET_ERR_INVALID_ARGUMENT, "'out' is NULL");
    json_decref(image.header);
    free(image.data);
    alexnet_network_free(net);
    alexnet_network_free(big);
}
END_TEST

START_TEST(nan_weights_load_but_training_reports_them)
{
    file_image image = read_image(valid_file());
    const float nan = NAN;
    memcpy(image.data + 8, &nan, sizeof nan); /* inside conv1.weight */
    const char *path = in_dir("nan.safetensors");
    write_image(path, &image);
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_load(&net, path));
    alexnet_sgd_config cfg;
    alexnet_sgd_config_init(&cfg);
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &cfg));
    int32_t labels[2];
    alexnet_tensor *x = labelled_batch(2, 15, labels, 1);
    ck_assert_fails(alexnet_train_step(net, opt, x, labels, NULL), ALEXNET_ERR_NUMERIC,
                    "the loss is nan");
    ck_assert_int_eq(alexnet_optimizer_steps(opt), 0);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    json_decref(image.header);
    free(image.data);
}
END_TEST

START_TEST(failed_save_leaves_the_old_file)
{
    const char *path = valid_file();
    alexnet_network *original = NULL;
    ck_assert_ok(alexnet_network_load(&original, path));
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        /* Writes past 4 KiB fail (EFBIG), as on a full disk. */
        struct rlimit limit = {4096, 4096};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &limit);
        alexnet_network *other = mini_network(15, 0.0f, 123);
        alexnet_status st = alexnet_network_save(other, path);
        const bool reported = st == ALEXNET_ERR_IO && strstr(alexnet_last_error(), "cannot write") &&
                              strstr(alexnet_last_error(), path) &&
                              strstr(alexnet_last_error(), "large");
        /* Everything the child made is freed, so a leak checker (valgrind) has nothing to add to
         * its exit status. */
        alexnet_network_free(other);
        alexnet_network_free(original);
        _exit(reported ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(count_files(), 1); /* the temporary file was removed */
    alexnet_network *after = NULL;
    ck_assert_ok(alexnet_network_load(&after, path));
    ck_assert(same_weights(original, after));
    alexnet_network_free(original);
    alexnet_network_free(after);
}
END_TEST

START_TEST(sigkill_during_saves_leaves_a_loadable_file)
{
    const char *path = in_dir("crash.safetensors");
    alexnet_network *a = mini_network(28, 0.0f, 1), *b = mini_network(28, 0.0f, 2);
    ck_assert_ok(alexnet_network_save(a, path));
    for (int round = 0; round < 6; round++) {
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
            for (int i = 0;; i++)
                alexnet_network_save(i % 2 ? a : b, path);
        }
        struct timespec pause = {0, 20000000L + 13000000L * round};
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        alexnet_network *loaded = NULL;
        ck_assert_ok(alexnet_network_load(&loaded, path));
        ck_assert(same_weights(loaded, a) || same_weights(loaded, b));
        alexnet_network_free(loaded);
    }
    alexnet_network_free(a);
    alexnet_network_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serialize");
    TCase *tc = tcase_create("serialize");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, hostile_files_are_rejected_and_change_nothing, 0, HOSTILE_CASES);
    tcase_add_test(tc, missing_files_and_wrong_kinds_are_reported);
    tcase_add_test(tc, caffe_settings_and_preprocessing_travel_with_the_network);
    tcase_add_test(tc, paper_switches_travel_with_the_network);
    tcase_add_test(tc, failed_save_leaves_the_old_file);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create_slow("serialize_slow"); /* big networks, training, many saves */
    tcase_add_checked_fixture(slow, make_dir, remove_dir);
    tcase_set_timeout(slow, 300);
    tcase_add_loop_test(slow, save_then_load_is_bit_identical, 0, 2);
    tcase_add_test(slow, checkpoint_resume_is_bit_identical);
    tcase_add_test(slow, nan_weights_load_but_training_reports_them);
    tcase_add_test(slow, sigkill_during_saves_leaves_a_loadable_file);
    suite_add_tcase(s, slow);
    return run_suite(s);
}
