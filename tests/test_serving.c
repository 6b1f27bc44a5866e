/* Inference for host applications: training state only when training, loading straight into the
 * weights (or mapping them), handles that share one copy of the weights, and many host threads
 * running inference at once. The concurrent tests also run under ThreadSanitizer (tests/tsan). */
#include "file_helpers.h"
#include "model_files.h"
#include "network_helpers.h"
#include "test_helpers.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SIDE = 28 };

static alexnet_memory_info memory_of(const alexnet_network *net)
{
    alexnet_memory_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    ck_assert_ok(alexnet_network_memory(net, &m));
    return m;
}

/* Inputs whose values avoid exact ties and zeros (see layer tests): noise from the index. */
static alexnet_tensor *noise_batch(int n, int channels, int side, uint64_t salt)
{
    int64_t shape[4] = {n, channels, side, side};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 4, shape));
    float *d = alexnet_tensor_data(t);
    for (int64_t i = 0; i < alexnet_tensor_numel(t); i++) {
        uint64_t h = ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ull + salt * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        d[i] = (float)(h % 20011) / 10005.5f - 1.0f + 1e-4f;
    }
    return t;
}

static alexnet_tensor *logits_for(const alexnet_network *net, int n)
{
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    ck_assert_ok(alexnet_network_get_config(net, &cfg));
    int64_t shape[2] = {n, cfg.num_classes};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 2, shape));
    return t;
}

static bool same_tensor(alexnet_tensor *a, alexnet_tensor *b)
{
    return alexnet_tensor_numel(a) == alexnet_tensor_numel(b) &&
           memcmp(alexnet_tensor_data(a), alexnet_tensor_data(b),
                  sizeof(float) * (size_t)alexnet_tensor_numel(a)) == 0;
}

/* The logits of `net` for `input`, in a new tensor. */
static alexnet_tensor *infer(alexnet_network *net, alexnet_tensor *input)
{
    alexnet_tensor *logits = logits_for(net, (int)alexnet_tensor_dim(input, 0));
    ck_assert_ok(alexnet_network_forward(net, input, logits, 0));
    return logits;
}

static const alexnet_sgd_config *sgd(void)
{
    static alexnet_sgd_config cfg;
    alexnet_sgd_config_init(&cfg);
    return &cfg;
}

/* ---- training state only when training ---------------------------------------------------- */

START_TEST(inference_allocates_no_gradients)
{
    alexnet_network *net = mini_network(SIDE, 0.5f, 3);
    alexnet_memory_info m = memory_of(net);
    const int64_t weights = m.weight_bytes;
    ck_assert_int_gt(weights, 4 * 100000);
    ck_assert_int_eq(m.gradient_bytes, 0);
    ck_assert_int_eq(m.activation_bytes, 0);
    ck_assert_int_eq(m.weight_readers, 1);
    ck_assert_int_eq(m.weights_mapped, 0);

    alexnet_tensor *x = noise_batch(4, 1, SIDE, 1);
    alexnet_tensor *logits = infer(net, x);
    m = memory_of(net);
    ck_assert_int_eq(m.gradient_bytes, 0);
    const int64_t inference_plan = m.activation_bytes;
    ck_assert_int_gt(inference_plan, 4 * 4 * SIDE * SIDE);

    /* The first training forward brings the gradients and what backward keeps. */
    ck_assert_ok(alexnet_network_forward(net, x, logits, 1));
    m = memory_of(net);
    ck_assert_int_eq(m.gradient_bytes, weights);
    ck_assert_int_gt(m.activation_bytes, inference_plan);
    int32_t labels[4] = {1, 2, 3, 4};
    ck_assert_ok(alexnet_network_backward(net, labels, NULL));
    alexnet_tensor *grad = NULL;
    ck_assert_ok(alexnet_network_param(net, "fc8.bias", NULL, &grad));
    double sum = 0.0;
    for (int64_t k = 0; k < alexnet_tensor_numel(grad); k++)
        sum += fabs((double)alexnet_tensor_data(grad)[k]);
    ck_assert(sum > 0.0);
    alexnet_tensor_free(x);
    alexnet_tensor_free(logits);
    alexnet_network_free(net);
}
END_TEST

START_TEST(optimizer_or_gradient_view_starts_training_state)
{
    alexnet_network *net = mini_network(SIDE, 0.0f, 4);
    alexnet_tensor *value = NULL, *grad = NULL;
    ck_assert_ok(alexnet_network_param(net, "conv1.weight", &value, NULL));
    ck_assert_int_eq(memory_of(net).gradient_bytes, 0);
    ck_assert_ok(alexnet_network_param(net, "conv1.weight", &value, &grad));
    ck_assert_ptr_nonnull(alexnet_tensor_data(grad));
    ck_assert_int_eq(alexnet_tensor_numel(grad), alexnet_tensor_numel(value));
    ck_assert_int_eq(memory_of(net).gradient_bytes, memory_of(net).weight_bytes);
    alexnet_network_free(net);

    net = mini_network(SIDE, 0.0f, 4);
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, sgd()));
    ck_assert_int_eq(memory_of(net).gradient_bytes, memory_of(net).weight_bytes);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}
END_TEST

/* Gradients made by the optimizer, or by a gradient view after an inference plan: the same
 * training to the bit, so lazy allocation changes no number. */
START_TEST(lazy_gradients_train_identically)
{
    int32_t labels[8];
    alexnet_tensor *x = labelled_batch(8, SIDE, labels, 5);
    alexnet_network *a = mini_network(SIDE, 0.5f, 9), *b = mini_network(SIDE, 0.5f, 9);
    alexnet_tensor *before = infer(b, x), *grad = NULL;
    ck_assert_ok(alexnet_network_param(b, "fc6.weight", NULL, &grad));
    alexnet_optimizer *oa = NULL, *ob = NULL;
    ck_assert_ok(alexnet_optimizer_create(&oa, a, sgd()));
    ck_assert_ok(alexnet_optimizer_create(&ob, b, sgd()));
    for (int step = 0; step < 3; step++) {
        ck_assert_ok(alexnet_train_step(a, oa, x, labels, NULL));
        ck_assert_ok(alexnet_train_step(b, ob, x, labels, NULL));
    }
    ck_assert(same_weights(a, b));
    ck_assert(param_checksum(a) != 0.0);
    alexnet_tensor *after = infer(b, x);
    ck_assert(!same_tensor(before, after)); /* it did train */
    alexnet_tensor_free(before);
    alexnet_tensor_free(after);
    alexnet_optimizer_free(oa);
    alexnet_optimizer_free(ob);
    alexnet_network_free(a);
    alexnet_network_free(b);
    alexnet_tensor_free(x);
}
END_TEST

START_TEST(memory_query_checks_its_arguments)
{
    alexnet_network *net = mini_network(SIDE, 0.5f, 3);
    alexnet_memory_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof(size_t) + sizeof(int64_t); /* does not reach activation_bytes */
    ck_assert_fails(alexnet_network_memory(net, &m), ALEXNET_ERR_INVALID_ARGUMENT, "struct_size");
    m.struct_size = sizeof m;
    ck_assert_fails(alexnet_network_memory(NULL, &m), ALEXNET_ERR_INVALID_ARGUMENT, "NULL");
    ck_assert_fails(alexnet_network_memory(net, NULL), ALEXNET_ERR_INVALID_ARGUMENT, "NULL");
    /* An older caller's struct, up to activation_bytes: filled that far and no further. */
    unsigned char buffer[sizeof m + 8];
    memset(buffer, 0xAB, sizeof buffer);
    alexnet_memory_info *older = (alexnet_memory_info *)(void *)buffer;
    older->struct_size = offsetof(alexnet_memory_info, weight_readers);
    ck_assert_ok(alexnet_network_memory(net, older));
    ck_assert_int_eq(older->struct_size, offsetof(alexnet_memory_info, weight_readers));
    ck_assert_int_eq(older->gradient_bytes, 0);
    ck_assert_int_eq(buffer[offsetof(alexnet_memory_info, weight_readers)], 0xAB);
    alexnet_network_free(net);
}
END_TEST

/* ---- loading -------------------------------------------------------------------------------- */

static alexnet_network *torchvision_network(uint64_t seed)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_TORCHVISION));
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, seed));
    return net;
}

/* Loading a 233 MiB model and classifying with it fits in the weights plus 64 MiB of address
 * space: no copy of the file, no gradients. (It used to need three times the weights.) */
START_TEST(loading_needs_the_weights_and_little_more)
{
    make_dir();
    const char *path = in_dir("torchvision.safetensors");
    alexnet_network *net = torchvision_network(21);
    alexnet_tensor *x = noise_batch(1, 3, 224, 2);
    alexnet_tensor *expected = infer(net, x); /* also starts OpenBLAS's buffers in this process */
    ck_assert_ok(alexnet_network_save(net, path));
    const int64_t weights = memory_of(net).weight_bytes;
    alexnet_network_free(net);
    if (limit_address_space((size_t)weights + (64u << 20))) {
        alexnet_network *loaded = NULL;
        ck_assert_ok(alexnet_network_load(&loaded, path));
        alexnet_tensor *got = infer(loaded, x);
        ck_assert(same_tensor(expected, got));
        alexnet_memory_info m = memory_of(loaded);
        ck_assert_int_eq(m.weight_bytes, weights);
        ck_assert_int_eq(m.gradient_bytes, 0);
        /* Training needs the gradients, which do not fit: a clean failure, nothing changed. */
        ck_assert_fails(alexnet_network_forward(loaded, x, got, 1), ALEXNET_ERR_OUT_OF_MEMORY,
                        "gradients");
        ck_assert_int_eq(memory_of(loaded).gradient_bytes, 0);
        alexnet_tensor_free(got);
        got = infer(loaded, x);
        ck_assert(same_tensor(expected, got));
        alexnet_tensor_free(got);
        alexnet_network_free(loaded);
    }
    alexnet_tensor_free(x);
    alexnet_tensor_free(expected);
    remove_dir();
}
END_TEST

START_TEST(mapped_weights_give_the_same_results_and_stay_read_only)
{
    make_dir();
    const char *path = in_dir("mini.safetensors");
    alexnet_network *net = mini_network(SIDE, 0.5f, 11);
    const char *names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    ck_assert_ok(alexnet_network_set_class_names(net, names, 10));
    ck_assert_ok(alexnet_network_save(net, path));
    alexnet_tensor *x = noise_batch(3, 1, SIDE, 4);
    alexnet_tensor *expected = infer(net, x);

    alexnet_network *mapped = NULL;
    ck_assert_ok(alexnet_network_load_mapped(&mapped, path));
    alexnet_memory_info m = memory_of(mapped);
    ck_assert_int_eq(m.weights_mapped, 1);
    ck_assert_int_eq(m.gradient_bytes, 0);
    alexnet_tensor *got = infer(mapped, x);
    ck_assert(same_tensor(expected, got));
    ck_assert_str_eq(alexnet_network_class_name(mapped, 9), "j");

    /* Inference only. */
    ck_assert_fails(alexnet_network_forward(mapped, x, got, 1), ALEXNET_ERR_STATE,
                    "alexnet_network_load");
    alexnet_optimizer *opt = NULL;
    ck_assert_fails(alexnet_optimizer_create(&opt, mapped, sgd()), ALEXNET_ERR_STATE, "mapped");
    ck_assert_ptr_null(opt);
    alexnet_tensor *grad = NULL;
    ck_assert_fails(alexnet_network_param(mapped, "fc8.bias", NULL, &grad), ALEXNET_ERR_STATE,
                    "mapped");

    /* Saving a new model over the file renames a new file into place: the mapping keeps the old. */
    alexnet_network *other = mini_network(SIDE, 0.5f, 12);
    ck_assert_ok(alexnet_network_save(other, path));
    alexnet_tensor_free(got);
    got = infer(mapped, x);
    ck_assert(same_tensor(expected, got));

    /* A write through a view copies the page for this process; the file is never written. */
    alexnet_tensor *bias = NULL;
    ck_assert_ok(alexnet_network_param(mapped, "fc8.bias", &bias, NULL));
    alexnet_tensor_data(bias)[0] += 1.0f;
    alexnet_network *reloaded = NULL;
    ck_assert_ok(alexnet_network_load(&reloaded, path));
    ck_assert(same_weights(reloaded, other));

    /* Loading weights into it puts them on the heap, after which it can train. */
    ck_assert_ok(alexnet_network_load_weights(mapped, path));
    ck_assert_int_eq(memory_of(mapped).weights_mapped, 0);
    ck_assert(same_weights(mapped, other));
    ck_assert_ok(alexnet_network_forward(mapped, x, got, 1));

    alexnet_tensor_free(got);
    alexnet_tensor_free(expected);
    alexnet_tensor_free(x);
    alexnet_network_free(reloaded);
    alexnet_network_free(other);
    alexnet_network_free(mapped);
    alexnet_network_free(net);
    remove_dir();
}
END_TEST

/* Tensors at an offset that is not a multiple of 4 cannot be used in place: they are read. */
START_TEST(unaligned_tensors_are_read_instead_of_mapped)
{
    make_dir();
    const char *path = in_dir("mini.safetensors"), *odd = in_dir("odd.safetensors");
    alexnet_network *net = mini_network(SIDE, 0.5f, 13);
    ck_assert_ok(alexnet_network_save(net, path));
    file_image image = read_image(path);
    char *text = json_dumps(image.header, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t length = strlen(text);
    char *padded = malloc(length + 4);
    memcpy(padded, text, length);
    while ((8 + length) % 4 != 2)
        padded[length++] = ' '; /* JSON allows trailing spaces */
    write_raw(odd, length, padded, length, image.data, image.data_size);

    alexnet_network *loaded = NULL;
    ck_assert_ok(alexnet_network_load_mapped(&loaded, odd));
    ck_assert_int_eq(memory_of(loaded).weights_mapped, 0);
    ck_assert(same_weights(loaded, net));
    alexnet_network_free(loaded);
    free(padded);
    free(text);
    json_decref(image.header);
    free(image.data);
    alexnet_network_free(net);
    remove_dir();
}
END_TEST

/* Sizes are validated before mapping: a file already cut short is refused, never mapped. */
START_TEST(a_truncated_file_is_refused_before_mapping)
{
    make_dir();
    const char *path = in_dir("mini.safetensors");
    alexnet_network *net = mini_network(SIDE, 0.5f, 14);
    ck_assert_ok(alexnet_network_save(net, path));
    size_t size = 0;
    uint8_t *bytes = read_bytes(path, &size);
    write_bytes(path, bytes, size - 4096);
    alexnet_network *loaded = NULL;
    ck_assert_fails(alexnet_network_load_mapped(&loaded, path), ALEXNET_ERR_FORMAT, "truncated");
    ck_assert_ptr_null(loaded);
    ck_assert_fails(alexnet_network_load(&loaded, path), ALEXNET_ERR_FORMAT, "truncated");
    free(bytes);
    alexnet_network_free(net);
    remove_dir();
}
END_TEST

/* What the header documents for a file truncated while mapped: SIGBUS on the next read of a page
 * past its new end (in a child process, so the test survives it). */
START_TEST(truncating_a_mapped_file_raises_sigbus_as_documented)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return; /* the sanitizers catch the signal themselves */
#endif
    if (getenv("ALEXNET_UNDER_VALGRIND") != NULL)
        return;
    make_dir();
    const char *path = in_dir("mini.safetensors");
    alexnet_network *net = mini_network(SIDE, 0.5f, 15);
    ck_assert_ok(alexnet_network_save(net, path));
    alexnet_network_free(net);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        alarm(60); /* a child that cannot finish dies (SIGALRM fails the test) instead of stalling */
        alexnet_network *mapped = NULL;
        if (alexnet_network_load_mapped(&mapped, path) != ALEXNET_OK)
            _exit(2);
        if (truncate(path, 0) != 0)
            _exit(3);
        alexnet_tensor *x = noise_batch(1, 1, SIDE, 5);
        alexnet_tensor *logits = logits_for(mapped, 1);
        alexnet_network_forward(mapped, x, logits, 0);
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "child status %d", status);
    remove_dir();
}
END_TEST

/* ---- shared weights ------------------------------------------------------------------------ */

START_TEST(a_share_infers_exactly_as_its_source_and_outlives_it)
{
    alexnet_network *source = mini_network(SIDE, 0.5f, 21);
    const char *names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    ck_assert_ok(alexnet_network_set_class_names(source, names, 10));
    alexnet_tensor *x = noise_batch(5, 1, SIDE, 6);
    alexnet_tensor *expected = infer(source, x);

    alexnet_network *share = NULL, *share_of_share = NULL;
    ck_assert_ok(alexnet_network_share(&share, source));
    ck_assert_ok(alexnet_network_share(&share_of_share, share));
    alexnet_memory_info m = memory_of(share);
    ck_assert_int_eq(m.weight_readers, 3);
    ck_assert_int_eq(m.weight_bytes, memory_of(source).weight_bytes);
    ck_assert_int_eq(m.gradient_bytes, 0);
    ck_assert_int_eq(m.activation_bytes, 0); /* its own plan, not made yet */
    ck_assert_str_eq(alexnet_network_class_name(share, 4), "e");

    /* The same storage, not a copy. */
    alexnet_tensor *a = NULL, *b = NULL;
    ck_assert_ok(alexnet_network_param(source, "fc7.weight", &a, NULL));
    ck_assert_ok(alexnet_network_param(share, "fc7.weight", &b, NULL));
    ck_assert_ptr_eq(alexnet_tensor_data(a), alexnet_tensor_data(b));

    alexnet_tensor *got = infer(share, x);
    ck_assert(same_tensor(expected, got));
    alexnet_tensor_free(got);

    /* Freed first, the source leaves its weights to the shares. */
    alexnet_network_free(source);
    ck_assert_int_eq(memory_of(share).weight_readers, 2);
    got = infer(share_of_share, x);
    ck_assert(same_tensor(expected, got));
    alexnet_tensor_free(got);
    alexnet_network_free(share);
    ck_assert_int_eq(memory_of(share_of_share).weight_readers, 1);
    got = infer(share_of_share, x);
    ck_assert(same_tensor(expected, got));
    ck_assert_str_eq(alexnet_network_class_name(share_of_share, 0), "a");
    /* Alone now, a share still never trains. */
    ck_assert_fails(alexnet_network_forward(share_of_share, x, got, 1), ALEXNET_ERR_STATE,
                    "alexnet_network_share");
    alexnet_tensor_free(got);
    alexnet_network_free(share_of_share);
    alexnet_tensor_free(expected);
    alexnet_tensor_free(x);
}
END_TEST

START_TEST(weights_are_read_only_while_shares_exist)
{
    make_dir();
    const char *path = in_dir("mini.safetensors");
    int32_t labels[4];
    alexnet_tensor *x = labelled_batch(4, SIDE, labels, 2);
    alexnet_network *source = mini_network(SIDE, 0.5f, 22);
    ck_assert_ok(alexnet_network_save(source, path));
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, source, sgd()));
    ck_assert_ok(alexnet_train_step(source, opt, x, labels, NULL));
    const double before = param_checksum(source);

    alexnet_network *share = NULL;
    ck_assert_ok(alexnet_network_share(&share, source));
    alexnet_tensor *logits = logits_for(source, 4);
    ck_assert_fails(alexnet_train_step(source, opt, x, labels, NULL), ALEXNET_ERR_STATE,
                    "1 share of this network (alexnet_network_share) reads its weights");
    ck_assert_fails(alexnet_optimizer_step(opt), ALEXNET_ERR_STATE, "alexnet_network_share");
    ck_assert_fails(alexnet_network_forward(source, x, logits, 1), ALEXNET_ERR_STATE, "free them");
    ck_assert_fails(alexnet_network_load_weights(source, path), ALEXNET_ERR_STATE,
                    "alexnet_network_share");
    ck_assert_fails(alexnet_network_load_weights(share, path), ALEXNET_ERR_STATE, "inference only");
    alexnet_optimizer *other = NULL;
    ck_assert_fails(alexnet_optimizer_create(&other, share, sgd()), ALEXNET_ERR_STATE,
                    "inference only");
    alexnet_tensor *grad = NULL;
    ck_assert_fails(alexnet_network_param(share, "fc6.bias", NULL, &grad), ALEXNET_ERR_STATE,
                    "inference only");
    ck_assert(param_checksum(source) == before);
    ck_assert_ok(alexnet_network_forward(source, x, logits, 0)); /* inference is fine */

    /* With the share gone, the source trains on. */
    alexnet_network_free(share);
    ck_assert_ok(alexnet_train_step(source, opt, x, labels, NULL));
    ck_assert(param_checksum(source) != before);
    alexnet_tensor_free(logits);
    alexnet_optimizer_free(opt);
    alexnet_network_free(source);
    alexnet_tensor_free(x);
    remove_dir();
}
END_TEST

START_TEST(share_checks_its_arguments)
{
    alexnet_network *out = (alexnet_network *)(void *)&out;
    ck_assert_fails(alexnet_network_share(&out, NULL), ALEXNET_ERR_INVALID_ARGUMENT, "NULL");
    ck_assert_ptr_null(out);
    alexnet_network *net = mini_network(SIDE, 0.5f, 1);
    ck_assert_fails(alexnet_network_share(NULL, net), ALEXNET_ERR_INVALID_ARGUMENT, "NULL");
    alexnet_network_free(net);
}
END_TEST

/* ---- many host threads ---------------------------------------------------------------------- */

enum { THREADS = 4, ROUNDS = 3, BATCHES = 3 };

typedef struct serving_thread {
    alexnet_network *net;
    alexnet_tensor *inputs[BATCHES];
    alexnet_tensor *logits[ROUNDS][BATCHES];
    alexnet_status status;
} serving_thread;

static void *serve(void *arg)
{
    serving_thread *t = arg;
    for (int r = 0; r < ROUNDS; r++)
        for (int b = 0; b < BATCHES && t->status == ALEXNET_OK; b++)
            t->status = alexnet_network_forward(t->net, t->inputs[b], t->logits[r][b], 0);
    return NULL;
}

/* THREADS host threads, each with its own share of one mapped network, run batches of 1, 2 and 3
 * at once, with the library's pool at `pool_threads`: every result equals the serial run's bit
 * for bit. */
static void run_concurrent_inference(int pool_threads, bool mapped)
{
    make_dir();
    const char *path = in_dir("mini.safetensors");
    alexnet_network *created = mini_network(SIDE, 0.5f, 31);
    ck_assert_ok(alexnet_network_save(created, path));
    alexnet_network_free(created);
    alexnet_network *source = NULL;
    ck_assert_ok(mapped ? alexnet_network_load_mapped(&source, path)
                        : alexnet_network_load(&source, path));
    ck_assert_ok(alexnet_set_num_threads(pool_threads));

    serving_thread threads[THREADS];
    alexnet_tensor *expected[THREADS][BATCHES];
    for (int t = 0; t < THREADS; t++) {
        threads[t].status = ALEXNET_OK;
        ck_assert_ok(alexnet_network_share(&threads[t].net, source));
        for (int b = 0; b < BATCHES; b++) {
            threads[t].inputs[b] = noise_batch(b + 1, 1, SIDE, (uint64_t)(t * BATCHES + b));
            expected[t][b] = infer(source, threads[t].inputs[b]);
            for (int r = 0; r < ROUNDS; r++)
                threads[t].logits[r][b] = logits_for(source, b + 1);
        }
    }
    alexnet_network_free(source); /* the shares keep the weights */
    pthread_t ids[THREADS];
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&ids[t], NULL, serve, &threads[t]), 0);
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_join(ids[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        ck_assert_ok(threads[t].status);
        for (int b = 0; b < BATCHES; b++) {
            for (int r = 0; r < ROUNDS; r++) {
                ck_assert_msg(same_tensor(expected[t][b], threads[t].logits[r][b]),
                              "thread %d, round %d, batch of %d differs from the serial run", t, r,
                              b + 1);
                alexnet_tensor_free(threads[t].logits[r][b]);
            }
            alexnet_tensor_free(expected[t][b]);
            alexnet_tensor_free(threads[t].inputs[b]);
        }
        alexnet_network_free(threads[t].net);
    }
    remove_dir();
}

START_TEST(threads_with_shares_match_a_serial_run)
{
    run_concurrent_inference(2, false);
}
END_TEST

START_TEST(threads_with_shares_of_a_mapped_network_match_a_serial_run)
{
    run_concurrent_inference(3, true);
}
END_TEST

START_TEST(threads_on_a_one_thread_pool_match_a_serial_run)
{
    run_concurrent_inference(1, false);
}
END_TEST

/* Shares made and freed on several threads while others infer: the count of readers ends where
 * it began and the weights are freed once, by the last (AddressSanitizer and ThreadSanitizer
 * watch this). */
typedef struct churn_thread {
    alexnet_network *source;
    alexnet_tensor *input, *expected;
    bool ok;
} churn_thread;

static void *churn(void *arg)
{
    churn_thread *t = arg;
    t->ok = true;
    for (int i = 0; i < 5 && t->ok; i++) {
        alexnet_network *share = NULL;
        if (alexnet_network_share(&share, t->source) != ALEXNET_OK)
            return t->ok = false, NULL;
        alexnet_tensor *logits = NULL;
        int64_t shape[2] = {1, 10};
        alexnet_tensor_create(&logits, 2, shape);
        t->ok = alexnet_network_forward(share, t->input, logits, 0) == ALEXNET_OK &&
                same_tensor(logits, t->expected);
        alexnet_tensor_free(logits);
        alexnet_network_free(share);
    }
    return NULL;
}

START_TEST(shares_come_and_go_on_many_threads)
{
    alexnet_network *source = mini_network(SIDE, 0.5f, 41);
    alexnet_tensor *x = noise_batch(1, 1, SIDE, 8);
    alexnet_tensor *expected = infer(source, x);
    churn_thread threads[THREADS];
    pthread_t ids[THREADS];
    for (int t = 0; t < THREADS; t++) {
        threads[t] = (churn_thread){source, x, expected, false};
        ck_assert_int_eq(pthread_create(&ids[t], NULL, churn, &threads[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        ck_assert_int_eq(pthread_join(ids[t], NULL), 0);
        ck_assert(threads[t].ok);
    }
    ck_assert_int_eq(memory_of(source).weight_readers, 1);
    alexnet_tensor_free(expected);
    alexnet_tensor_free(x);
    alexnet_network_free(source);
}
END_TEST

static Suite *serving_suite(void)
{
    Suite *s = suite_create("serving");
    TCase *lazy = tcase_create_slow("training state");
    tcase_add_test(lazy, inference_allocates_no_gradients);
    tcase_add_test(lazy, optimizer_or_gradient_view_starts_training_state);
    tcase_add_test(lazy, lazy_gradients_train_identically);
    tcase_add_test(lazy, memory_query_checks_its_arguments);
    suite_add_tcase(s, lazy);
    TCase *loading = tcase_create("loading");
    tcase_add_test(loading, mapped_weights_give_the_same_results_and_stay_read_only);
    tcase_add_test(loading, unaligned_tensors_are_read_instead_of_mapped);
    tcase_add_test(loading, a_truncated_file_is_refused_before_mapping);
    tcase_add_test(loading, truncating_a_mapped_file_raises_sigbus_as_documented);
    suite_add_tcase(s, loading);
    TCase *shares = tcase_create("shared weights");
    tcase_add_test(shares, a_share_infers_exactly_as_its_source_and_outlives_it);
    tcase_add_test(shares, weights_are_read_only_while_shares_exist);
    tcase_add_test(shares, share_checks_its_arguments);
    suite_add_tcase(s, shares);
    TCase *threads = tcase_create_slow("host threads");
    tcase_add_test(threads, threads_with_shares_match_a_serial_run);
    tcase_add_test(threads, threads_with_shares_of_a_mapped_network_match_a_serial_run);
    tcase_add_test(threads, threads_on_a_one_thread_pool_match_a_serial_run);
    tcase_add_test(threads, shares_come_and_go_on_many_threads);
    suite_add_tcase(s, threads);
    TCase *big = tcase_create_slow("loading big models");
    tcase_add_test(big, loading_needs_the_weights_and_little_more);
    suite_add_tcase(s, big);
    return s;
}

int main(void)
{
    return run_suite(serving_suite());
}
