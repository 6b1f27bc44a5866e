/* Data sets and loaders: IDX files (plain and gzipped, and refusing bad ones), folder trees,
 * batches (reproducible, shuffled, augmented, prefetched), class names in model files, and a short
 * training run on Fashion-MNIST. */
#include "file_helpers.h"
#include "image_fixtures.h"
#include "network_helpers.h"

#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---- IDX ------------------------------------------------------------------------------------- */

/* IDX bytes: n images of rows x cols with pixel (i, p) = (i * 10 + p) % 256, labels i % 3. */
static uint8_t *idx_images(int n, int rows, int cols, size_t *size)
{
    *size = 16 + (size_t)n * rows * cols;
    uint8_t *b = calloc(1, *size);
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    b[2] = 0x08;
    b[3] = 3;
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * d + k] = (uint8_t)(dims[d] >> (24 - 8 * k));
    for (size_t i = 16; i < *size; i++)
        b[i] = (uint8_t)((i - 16) % 256);
    return b;
}

static uint8_t *idx_labels(int n, size_t *size)
{
    *size = 8 + (size_t)n;
    uint8_t *b = calloc(1, *size);
    b[2] = 0x08;
    b[3] = 1;
    for (int k = 0; k < 4; k++)
        b[4 + k] = (uint8_t)((uint32_t)n >> (24 - 8 * k));
    for (int i = 0; i < n; i++)
        b[8 + i] = (uint8_t)(i % 3);
    return b;
}

static void write_gz(const char *path, const uint8_t *data, size_t size)
{
    gzFile f = gzopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, data, (unsigned)size), (int)size);
    gzclose(f);
}

START_TEST(idx_files_load_plain_and_gzipped)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(5, 4, 3, &isize), *labels = idx_labels(5, &lsize);
    write_bytes(in_dir("img.idx"), images, isize);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    write_gz(in_dir("img.idx.gz"), images, isize);
    write_gz(in_dir("lab.idx.gz"), labels, lsize);
    const char *pairs[2][2] = {{in_dir("img.idx"), in_dir("lab.idx")},
                               {in_dir("img.idx.gz"), in_dir("lab.idx.gz")}};
    for (int k = 0; k < 2; k++) {
        alexnet_dataset *ds = NULL;
        ck_assert_ok(alexnet_dataset_open_idx(&ds, pairs[k][0], pairs[k][1]));
        ck_assert_int_eq(alexnet_dataset_size(ds), 5);
        ck_assert_int_eq(alexnet_dataset_num_classes(ds), 3);
        ck_assert_str_eq(alexnet_dataset_class_name(ds, 2), "2");
        alexnet_tensor *t = NULL;
        int32_t label = -1;
        ck_assert_ok(alexnet_dataset_get(ds, 3, &t, &label));
        ck_assert_int_eq(label, 0);
        ck_assert_int_eq(alexnet_tensor_dim(t, 0), 1);
        ck_assert_int_eq(alexnet_tensor_dim(t, 1), 4);
        ck_assert_int_eq(alexnet_tensor_dim(t, 2), 3);
        for (int p = 0; p < 12; p++)
            ck_assert_float_eq(alexnet_tensor_data(t)[p], (float)((3 * 12 + p) % 256) / 255.0f);
        alexnet_tensor_free(t);
        ck_assert_fails(alexnet_dataset_get(ds, 5, &t, &label), ALEXNET_ERR_INVALID_ARGUMENT,
                        "index 5 is out of range");
        alexnet_dataset_free(ds);
    }
    free(images);
    free(labels);
}
END_TEST

START_TEST(bad_idx_files_are_clear_errors)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(5, 4, 3, &isize), *labels = idx_labels(5, &lsize);
    alexnet_dataset *ds = (alexnet_dataset *)&ds;
    write_bytes(in_dir("lab.idx"), labels, lsize);

    images[2] = 0x09; /* not unsigned bytes */
    write_bytes(in_dir("magic.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("magic.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "magic.idx' has the magic number 0x00000903");
    ck_assert_ptr_null(ds);
    images[2] = 0x08;
    images[7] = 6; /* 6 images declared, 5 present */
    write_bytes(in_dir("count.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("count.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "a count larger than the file");
    images[7] = 5;
    images[4] = 0x7f; /* an absurd count: no huge allocation, just an error */
    write_bytes(in_dir("absurd.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("absurd.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "absurd.idx");
    images[4] = 0;
    write_bytes(in_dir("img.idx"), images, isize);
    size_t other_size;
    uint8_t *other = idx_labels(4, &other_size);
    write_bytes(in_dir("lab4.idx"), other, other_size);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("img.idx"), in_dir("lab4.idx")),
                    ALEXNET_ERR_FORMAT, "holds 5 images but");
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("lab.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "has the magic number 0x00000801");
    write_bytes(in_dir("empty.idx"), "", 0);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("empty.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "is 0 bytes, too short for an IDX file");
    write_gz(in_dir("img.idx.gz"), images, isize);
    size_t gz_size;
    uint8_t *gz = read_bytes(in_dir("img.idx.gz"), &gz_size);
    write_bytes(in_dir("cut.idx.gz"), gz, gz_size / 2);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("cut.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "cut.idx.gz': the gzip data is truncated");
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("none.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_IO, "none.idx");
    free(gz);
    free(other);
    free(images);
    free(labels);
}
END_TEST

/* ---- folder trees and loaders ---------------------------------------------------------------- */

/* root/{ant,bee,cat}/NN.png: 3 classes x 4 images of 6x8, each a constant grey of its number. */
static const char *make_tree(bool with_corrupt)
{
    const char *root = in_dir("tree");
    mkdir(root, 0755);
    const char *classes[3] = {"bee", "ant", "cat"}; /* made out of order: sorted on opening */
    for (int c = 0; c < 3; c++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", root, classes[c]);
        mkdir(path, 0755);
        for (int i = 0; i < 4; i++) {
            uint8_t px[6 * 8];
            memset(px, 10 * (c * 4 + i), sizeof px);
            snprintf(path, sizeof path, "%s/%s/%02d.png", root, classes[c], i);
            ck_assert(fixture_write_png(path, 8, 6, 1, px));
        }
    }
    char path[600];
    snprintf(path, sizeof path, "%s/ant/notes.txt", root); /* ignored: not an image */
    write_bytes(path, "x", 1);
    if (with_corrupt) {
        snprintf(path, sizeof path, "%s/cat/99.jpg", root);
        write_bytes(path, "not a jpeg", 10);
    }
    return root;
}

/* Memory running out while inflating is OUT_OF_MEMORY, never a "malformed file" verdict on a
 * good file (a failed realloc once ended the loop with a truncated buffer and status OK). */
START_TEST(running_out_of_memory_inflating_is_reported_as_such)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(60000, 28, 28, &isize), *labels = idx_labels(60000, &lsize);
    write_gz(in_dir("big.idx.gz"), images, isize); /* 47 MB that compress to a few hundred KB */
    write_bytes(in_dir("lab.idx"), labels, lsize);
    free(images);
    free(labels);
    if (!limit_address_space((size_t)24 << 20))
        return; /* not under AddressSanitizer */
    alexnet_dataset *ds = (alexnet_dataset *)&ds;
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("big.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_OUT_OF_MEMORY, "out of memory inflating");
    ck_assert_ptr_null(ds);
}
END_TEST

/* A gzip bomb: the header declares one 64x64 image (4 KiB), the stream inflates to 64 MiB.
 * Inflating stops at the first byte past the declared size, with the address space capped far
 * below what the whole stream would need; a header beyond the host's limit is refused before any
 * data is inflated. */
START_TEST(inflating_stops_at_the_size_the_header_declares)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(1, 64, 64, &isize), *labels = idx_labels(1, &lsize);
    const size_t bomb = (size_t)64 << 20;
    uint8_t *big = calloc(1, bomb);
    memcpy(big, images, isize);
    write_gz(in_dir("bomb.idx.gz"), big, bomb);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    free(big);
    limit_address_space((size_t)16 << 20); /* where it can (not under AddressSanitizer) */
    alexnet_dataset *ds = (alexnet_dataset *)&ds;
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("bomb.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "inflates to more than the 4112 bytes its IDX header");
    ck_assert_ptr_null(ds);

    write_gz(in_dir("one.idx.gz"), images, isize);
    alexnet_limits limits;
    ck_assert_ok(alexnet_limits_init(&limits));
    limits.max_dataset_bytes = 4095;
    ck_assert_ok(alexnet_limits_set(&limits));
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("one.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "alexnet_limits.max_dataset_bytes");
    limits.max_dataset_bytes = 4096;
    limits.max_image_side = 63;
    ck_assert_ok(alexnet_limits_set(&limits));
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("one.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "images of 64x64 pixels");
    limits.max_image_side = 64;
    ck_assert_ok(alexnet_limits_set(&limits));
    ck_assert_ok(alexnet_dataset_open_idx(&ds, in_dir("one.idx.gz"), in_dir("lab.idx")));
    ck_assert_int_eq(alexnet_dataset_size(ds), 1);
    alexnet_dataset_free(ds);
    ck_assert_ok(alexnet_limits_set(NULL));
    free(images);
    free(labels);
}
END_TEST

START_TEST(folder_tree_gives_sorted_classes_and_files)
{
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(false), 3));
    ck_assert_int_eq(alexnet_dataset_size(ds), 12);
    ck_assert_int_eq(alexnet_dataset_num_classes(ds), 3);
    ck_assert_str_eq(alexnet_dataset_class_name(ds, 0), "ant");
    ck_assert_str_eq(alexnet_dataset_class_name(ds, 1), "bee");
    ck_assert_ptr_null(alexnet_dataset_class_name(ds, 3));
    alexnet_tensor *t = NULL;
    int32_t label;
    ck_assert_ok(alexnet_dataset_get(ds, 5, &t, &label)); /* bee/01.png */
    ck_assert_int_eq(label, 1);
    ck_assert_int_eq(alexnet_tensor_dim(t, 0), 3);
    ck_assert_float_eq_tol(alexnet_tensor_data(t)[0], 10.0f * 1 / 255.0f, 1e-6f);
    alexnet_tensor_free(t);
    alexnet_dataset_free(ds);
    ck_assert_fails(alexnet_dataset_open_folder(&ds, in_dir("missing"), 3), ALEXNET_ERR_IO,
                    "cannot open the folder");
    mkdir(in_dir("bare"), 0755);
    ck_assert_fails(alexnet_dataset_open_folder(&ds, in_dir("bare"), 3), ALEXNET_ERR_FORMAT,
                    "has no class folders");
}
END_TEST

typedef struct skipped_log {
    int count;
    char last[1024];
} skipped_log;

static void remember_skipped(void *user, const char *message)
{
    skipped_log *log = user;
    log->count++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

START_TEST(corrupt_files_stop_or_are_skipped_as_asked)
{
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(true), 1));
    ck_assert_int_eq(alexnet_dataset_size(ds), 13);
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 6, 8));
    cfg.batch_size = 13;
    cfg.shuffle = 0;
    alexnet_loader *ld = NULL;
    alexnet_tensor *images = NULL;
    const int32_t *labels = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    ck_assert_fails(alexnet_loader_next(ld, &images, &labels), ALEXNET_ERR_FORMAT,
                    "99.jpg' is neither a PNG nor a JPEG");
    alexnet_loader_free(ld);

    skipped_log log = {0};
    cfg.on_bad_sample = ALEXNET_BAD_SAMPLE_SKIP;
    cfg.bad_sample_callback = remember_skipped;
    cfg.callback_user = &log;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
    ck_assert_int_eq(alexnet_tensor_dim(images, 0), 12);
    ck_assert_int_eq(log.count, 1);
    ck_assert_ptr_nonnull(strstr(log.last, "cat/99.jpg"));
    ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
    ck_assert_ptr_null(images); /* the epoch is over */
    alexnet_loader_free(ld);
    alexnet_dataset_free(ds);
}
END_TEST

/* Every batch of an epoch, concatenated. */
static void collect_epoch(alexnet_loader *ld, int64_t epoch, float *pixels, int32_t *labels,
                          int64_t sample, int64_t *count)
{
    ck_assert_ok(alexnet_loader_start_epoch(ld, epoch));
    *count = 0;
    for (;;) {
        alexnet_tensor *images = NULL;
        const int32_t *l = NULL;
        ck_assert_ok(alexnet_loader_next(ld, &images, &l));
        if (images == NULL)
            break;
        const int64_t n = alexnet_tensor_dim(images, 0);
        memcpy(pixels + *count * sample, alexnet_tensor_data(images),
               sizeof(float) * (size_t)(n * sample));
        memcpy(labels + *count, l, sizeof(int32_t) * (size_t)n);
        *count += n;
    }
}

START_TEST(loader_batches_are_reproducible_and_cover_each_sample_once)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(50, 8, 8, &isize), *labels = idx_labels(50, &lsize);
    write_bytes(in_dir("img.idx"), images, isize);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&ds, in_dir("img.idx"), in_dir("lab.idx")));
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 8, 8));
    cfg.batch_size = 16; /* 50 = 16 + 16 + 16 + 2 */
    cfg.seed = 3;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    float a[50 * 64], b[50 * 64], c[50 * 64];
    int32_t la[50], lb[50], lc[50];
    int64_t na, nb, nc;
    alexnet_loader *threaded = NULL, *plain = NULL;
    ck_assert_ok(alexnet_loader_create(&threaded, ds, &cfg));
    ck_assert_int_eq(alexnet_loader_batches(threaded), 4);
    cfg.prefetch = 0;
    cfg.batch_size = 7; /* another batch size and no thread: the same samples */
    ck_assert_ok(alexnet_loader_create(&plain, ds, &cfg));
    collect_epoch(threaded, 1, a, la, 64, &na);
    collect_epoch(plain, 1, b, lb, 64, &nb);
    ck_assert_int_eq(na, 50);
    ck_assert_int_eq(nb, 50);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(la, lb, sizeof la);
    collect_epoch(threaded, 2, c, lc, 64, &nc);
    ck_assert_int_ne(memcmp(la, lc, sizeof la), 0); /* a new order each epoch */
    /* Each sample once: the multiset of labels is the data set's. */
    int counts[3] = {0};
    for (int i = 0; i < 50; i++)
        counts[la[i]]++;
    ck_assert_int_eq(counts[0], 17);
    ck_assert_int_eq(counts[1], 17);
    ck_assert_int_eq(counts[2], 16);
    /* Pad-and-crop shifts by at most 2 pixels and pads with zeros: every image keeps most of
     * its pixels and some crops show padding. */
    int zeros = 0;
    for (int i = 0; i < 50 * 64; i++)
        zeros += a[i] == 0.0f;
    ck_assert_int_gt(zeros, 100);
    ck_assert_int_lt(zeros, 50 * 64 / 2);
    alexnet_loader_free(threaded);
    alexnet_loader_free(plain);

    alexnet_loader *ld = NULL;
    alexnet_tensor *batch = NULL;
    const int32_t *l = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_fails(alexnet_loader_next(ld, &batch, &l), ALEXNET_ERR_STATE,
                    "alexnet_loader_start_epoch");
    /* The epoch names 24 bits of every random stream: ALEXNET_MAX_EPOCH is the last. */
    ck_assert_ok(alexnet_loader_start_epoch(ld, ALEXNET_MAX_EPOCH));
    ck_assert_fails(alexnet_loader_start_epoch(ld, (int64_t)ALEXNET_MAX_EPOCH + 1),
                    ALEXNET_ERR_INVALID_ARGUMENT, "outside 0..16777215");
    ck_assert_fails(alexnet_loader_start_epoch(ld, -1), ALEXNET_ERR_INVALID_ARGUMENT,
                    "epoch -1");
    alexnet_loader_free(ld);
    cfg.batch_size = 0;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "batch_size is 0");
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 8, 8));
    cfg.pca_std = 0.1f;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "needs an RGB data set");
    alexnet_dataset_free(ds);
    free(images);
    free(labels);
}
END_TEST

/* Shards of one epoch: each global batch of 3 x 4 samples is the batch one process with batch
 * size 12 loads, in order, split among the 3 shards; together they hold every sample once. The
 * last global batch, 50 - 48 = 2 samples, leaves shard 0 nothing. */
START_TEST(shards_split_each_global_batch_and_cover_the_epoch_once)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(50, 8, 8, &isize), *labels = idx_labels(50, &lsize);
    write_bytes(in_dir("img.idx"), images, isize);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&ds, in_dir("img.idx"), in_dir("lab.idx")));
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 8, 8));
    ck_assert_int_eq(cfg.shard_count, 1);
    cfg.seed = 5;
    cfg.random_crop = 1;
    cfg.pad = 1;
    cfg.flip = 1;
    cfg.batch_size = 12;
    static float whole[50 * 64], shard[3][50 * 64];
    int32_t whole_labels[50], shard_labels[3][50];
    int64_t whole_count, shard_count[3];
    alexnet_loader *ld = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    collect_epoch(ld, 4, whole, whole_labels, 64, &whole_count);
    alexnet_loader_free(ld);
    cfg.batch_size = 4;
    cfg.shard_count = 3;
    for (int r = 0; r < 3; r++) {
        cfg.shard_index = r;
        cfg.prefetch = r != 1; /* with and without the prefetch thread */
        ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
        ck_assert_int_eq(alexnet_loader_batches(ld), 5);
        collect_epoch(ld, 4, shard[r], shard_labels[r], 64, &shard_count[r]);
        alexnet_loader_free(ld);
    }
    ck_assert_int_eq(shard_count[0], 16); /* 4 x 4, nothing of the last global batch */
    ck_assert_int_eq(shard_count[1], 17);
    ck_assert_int_eq(shard_count[2], 17);
    /* Interleave the shards' batches back: the unsharded epoch, pixel for pixel. */
    int64_t at = 0, taken[3] = {0, 0, 0};
    for (int b = 0; b < 5; b++)
        for (int r = 0; r < 3; r++) {
            const int64_t n = b < 4 ? 4 : (r == 0 ? 0 : 1);
            ck_assert_mem_eq(shard[r] + taken[r] * 64, whole + at * 64, sizeof(float) * 64 * n);
            ck_assert_mem_eq(shard_labels[r] + taken[r], whole_labels + at, sizeof(int32_t) * n);
            taken[r] += n;
            at += n;
        }
    ck_assert_int_eq(at, 50);
    cfg.shard_index = 3;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "shard_index is 3; use 0 to 2");
    cfg.shard_count = 0;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "shard_count is 0");
    alexnet_dataset_free(ds);
    free(images);
    free(labels);
}
END_TEST

START_TEST(pca_jitter_shifts_colours_with_zero_mean)
{
    /* Constant images: everything a batch pixel differs from its source by is the jitter. */
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(false), 3));
    alexnet_color_pca pca = {
        {0.04f, 0.01f, 0.0025f},
        {{0.48f, -0.80f, -0.36f}, {0.60f, 0.60f, -0.48f}, {0.64f, 0.0f, 0.80f}}};
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 3, 6, 8));
    cfg.batch_size = 12;
    cfg.pca_std = 0.1f;
    cfg.pca = pca;
    cfg.shuffle = 0;
    alexnet_loader *ld = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    float base[12]; /* each image is one grey level */
    for (int i = 0; i < 12; i++) {
        alexnet_tensor *t = NULL;
        int32_t label;
        ck_assert_ok(alexnet_dataset_get(ds, i, &t, &label));
        base[i] = alexnet_tensor_data(t)[0];
        alexnet_tensor_free(t);
    }
    double sum[3] = {0}, sq[3] = {0};
    int n = 0;
    for (int epoch = 0; epoch < 200; epoch++) {
        ck_assert_ok(alexnet_loader_start_epoch(ld, epoch));
        alexnet_tensor *images = NULL;
        const int32_t *labels = NULL;
        ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
        for (int i = 0; i < 12; i++) {
            for (int c = 0; c < 3; c++) {
                double shift = alexnet_tensor_data(images)[(i * 3 + c) * 48 + 7] - base[i];
                sum[c] += shift;
                sq[c] += shift * shift;
            }
            n++;
        }
    }
    for (int c = 0; c < 3; c++) {
        /* shift_c = sum_k P[c][k] a_k l_k, a ~ N(0, 0.1): variance 0.01 sum_k (P[c][k] l_k)^2 */
        double var = 0;
        for (int k = 0; k < 3; k++)
            var += 0.01 * pow(pca.eigenvectors[c][k] * pca.eigenvalues[k], 2);
        ck_assert_double_eq_tol(sum[c] / n, 0.0, 4.0 * sqrt(var / n));
        ck_assert_double_eq_tol(sq[c] / n, var, 0.2 * var);
    }
    alexnet_loader_free(ld);
    alexnet_dataset_free(ds);
}
END_TEST

START_TEST(class_names_travel_with_the_model)
{
    alexnet_network *net = mini_network(15, 0.0f, 1), *loaded = NULL;
    const char *names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "jay"};
    ck_assert_ptr_null(alexnet_network_class_name(net, 0));
    ck_assert_fails(alexnet_network_set_class_names(net, names, 3), ALEXNET_ERR_INVALID_ARGUMENT,
                    "3 names given for a network of 10 classes");
    ck_assert_ok(alexnet_network_set_class_names(net, names, 10));
    ck_assert_ok(alexnet_network_save(net, in_dir("named.safetensors")));
    ck_assert_ok(alexnet_network_load(&loaded, in_dir("named.safetensors")));
    ck_assert_str_eq(alexnet_network_class_name(loaded, 9), "jay");
    ck_assert_ptr_null(alexnet_network_class_name(loaded, 10));
    alexnet_network_free(net);
    alexnet_network_free(loaded);
}
END_TEST

/* ---- a short training run on Fashion-MNIST ------------------------------------------------- */

START_TEST(short_fashion_mnist_run_learns)
{
    const char *root = getenv("FASHION_MNIST_DIR");
    if (root == NULL)
        root = "/usr/share/datasets/fashion-mnist";
    char images[512], labels[512], test_images[512], test_labels[512];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", root);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", root);
    snprintf(test_images, sizeof test_images, "%s/t10k-images-idx3-ubyte.gz", root);
    snprintf(test_labels, sizeof test_labels, "%s/t10k-labels-idx1-ubyte.gz", root);
    alexnet_dataset *train = NULL, *test = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&train, images, labels));
    ck_assert_ok(alexnet_dataset_open_idx(&test, test_images, test_labels));
    ck_assert_int_eq(alexnet_dataset_size(train), 60000);
    ck_assert_int_eq(alexnet_dataset_size(test), 10000);

    alexnet_network *net = mini_network(28, 0.0f, 5);
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    sgd.learning_rate = 0.02f;
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &sgd));
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 28, 28));
    cfg.batch_size = 32;
    cfg.mean[0] = 0.286f;
    cfg.std[0] = 0.353f;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    alexnet_loader *ld = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, train, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    double first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        alexnet_tensor *batch = NULL;
        const int32_t *l = NULL;
        float loss;
        ck_assert_ok(alexnet_loader_next(ld, &batch, &l));
        ck_assert_ok(alexnet_train_step(net, opt, batch, l, &loss));
        if (step < 30)
            first += loss / 30.0;
        if (step >= 270)
            last += loss / 30.0;
    }
    ck_assert_msg(last < 0.6 * first, "loss went from %.3f to %.3f", first, last);

    alexnet_loader_config tc = cfg;
    tc.batch_size = 500;
    tc.random_crop = tc.pad = tc.flip = 0;
    tc.shuffle = 0;
    alexnet_loader *test_loader = NULL;
    ck_assert_ok(alexnet_loader_create(&test_loader, test, &tc));
    ck_assert_ok(alexnet_loader_start_epoch(test_loader, 0));
    int64_t shape[2] = {500, 10};
    alexnet_tensor *logits = NULL;
    ck_assert_ok(alexnet_tensor_create(&logits, 2, shape));
    int correct = 0;
    for (int b = 0; b < 4; b++) { /* 2000 test images */
        alexnet_tensor *batch = NULL;
        const int32_t *l = NULL;
        ck_assert_ok(alexnet_loader_next(test_loader, &batch, &l));
        ck_assert_ok(alexnet_network_forward(net, batch, logits, 0));
        for (int i = 0; i < 500; i++) {
            const float *z = alexnet_tensor_data(logits) + i * 10;
            int best = 0;
            for (int c = 1; c < 10; c++)
                best = z[c] > z[best] ? c : best;
            correct += best == l[i];
        }
    }
    ck_assert_msg(correct > 2000 * 0.6, "test accuracy %.1f%%, chance is 10%%",
                  100.0 * correct / 2000);
    alexnet_tensor_free(logits);
    alexnet_loader_free(ld);
    alexnet_loader_free(test_loader);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    alexnet_dataset_free(train);
    alexnet_dataset_free(test);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("datasets");
    TCase *tc = tcase_create("datasets");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, idx_files_load_plain_and_gzipped);
    tcase_add_test(tc, bad_idx_files_are_clear_errors);
    tcase_add_test(tc, folder_tree_gives_sorted_classes_and_files);
    tcase_add_test(tc, corrupt_files_stop_or_are_skipped_as_asked);
    tcase_add_test(tc, loader_batches_are_reproducible_and_cover_each_sample_once);
    tcase_add_test(tc, shards_split_each_global_batch_and_cover_the_epoch_once);
    tcase_add_test(tc, pca_jitter_shifts_colours_with_zero_mean);
    tcase_add_test(tc, class_names_travel_with_the_model);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create_slow("datasets_slow"); /* tens of megabytes, and training */
    tcase_add_checked_fixture(slow, make_dir, remove_dir);
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, running_out_of_memory_inflating_is_reported_as_such);
    tcase_add_test(slow, inflating_stops_at_the_size_the_header_declares);
    tcase_add_test(slow, short_fashion_mnist_run_learns);
    suite_add_tcase(s, slow);
    return run_suite(s);
}
