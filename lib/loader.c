/* Batches from a data set: per-epoch shuffling, the paper's augmentation, and a background thread
 * that prepares the next batch while the caller trains on the current one.
 *
 * Two slots alternate: batch b lives in slot b % 2. When the caller asks for batch b, the slot of
 * batch b - 1 is handed back and the prefetch thread starts filling it with batch b + 1. Every
 * random choice of a sample (crop, mirror, colour) is drawn from (seed, epoch, sample index), so
 * batches do not depend on timing, batch size or thread count. */
#include "dataset.h"
#include "config_struct.h"
#include "error.h"
#include "image.h"
#include "memory.h"
#include "rng.h"
#include "tensor.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every field of the struct as of 1.0 is required. */
#define LOADER_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_loader_config, callback_user)

typedef enum slot_state { SLOT_EMPTY, SLOT_FILLING, SLOT_READY } slot_state;

typedef struct batch_slot {
    alexnet_tensor images; /* a borrowed view of `pixels`: [count, C, H, W] */
    float *pixels;
    int32_t *labels;
    int64_t count;
    int64_t batch; /* the batch it holds or is wanted for; -1: none */
    slot_state state;
    alexnet_status status;
    char error[ERROR_CAPACITY];
    char **skipped; /* messages of skipped samples */
    int skipped_count;
} batch_slot;

/* Growable buffers for the producer's intermediate images. */
typedef struct sample_scratch {
    float *resized, *cropped;
    size_t resized_floats, cropped_floats;
} sample_scratch;

struct alexnet_loader {
    const alexnet_dataset *ds;
    alexnet_loader_config cfg;
    int64_t batches;
    int64_t *order; /* sample order of the current epoch */
    int64_t epoch;
    bool started;
    int64_t next_batch;
    batch_slot slots[2];
    sample_scratch scratch;
    bool threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool stop;
};

static alexnet_status check_geometry(const char *fn, int channels, int height, int width)
{
    if (channels != 1 && channels != 3)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: channels is %d; use 1 or 3", fn,
                         channels);
    if (height < 1 || height > ALEXNET_MAX_SIDE || width < 1 || width > ALEXNET_MAX_SIDE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the size %dx%d is outside 1..%d per side", fn, height, width,
                         ALEXNET_MAX_SIDE);
    return ALEXNET_OK;
}

alexnet_status alexnet_loader_config_init(alexnet_loader_config *cfg, int channels, int height,
                                          int width)
{
    static const char fn[] = "alexnet_loader_config_init";
    CHECK_NOT_NULL(fn, cfg);
    alexnet_status st = check_geometry(fn, channels, height, width);
    if (st != ALEXNET_OK)
        return st;
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->batch_size = 128;
    cfg->shuffle = 1;
    cfg->channels = channels;
    cfg->height = height;
    cfg->width = width;
    for (int c = 0; c < 3; c++)
        cfg->std[c] = 1.0f;
    cfg->prefetch = 1;
    cfg->on_bad_sample = ALEXNET_BAD_SAMPLE_STOP;
    cfg->shard_count = 1;
    return ALEXNET_OK;
}

static alexnet_status check_config(const char *fn, const alexnet_loader_config *c,
                                   const alexnet_dataset *ds)
{
#define REQUIRE(cond, ...)                                                                         \
    if (!(cond))                                                                                   \
    return error_set(ALEXNET_ERR_INVALID_ARGUMENT, __VA_ARGS__)
    REQUIRE(c->batch_size >= 1 && c->batch_size <= 65536, "%s: batch_size is %d; use 1 to 65536",
            fn, c->batch_size);
    alexnet_status st = check_geometry(fn, c->channels, c->height, c->width);
    if (st != ALEXNET_OK)
        return st;
    REQUIRE(c->resize_shorter >= 0 && c->resize_shorter <= ALEXNET_MAX_SIDE,
            "%s: resize_shorter is %d; use 0 (off) to %d", fn, c->resize_shorter, ALEXNET_MAX_SIDE);
    REQUIRE(c->pad >= 0 && c->pad <= 1024, "%s: pad is %d; use 0 to 1024", fn, c->pad);
    REQUIRE(c->pca_std >= 0.0f && isfinite(c->pca_std), "%s: pca_std is %g; use >= 0", fn,
            (double)c->pca_std);
    REQUIRE(c->pca_std == 0.0f || ds->channels == 3,
            "%s: PCA colour augmentation needs an RGB data set", fn);
    REQUIRE(c->on_bad_sample == ALEXNET_BAD_SAMPLE_STOP ||
                c->on_bad_sample == ALEXNET_BAD_SAMPLE_SKIP,
            "%s: on_bad_sample %d is unknown", fn, (int)c->on_bad_sample);
    REQUIRE(c->shard_count >= 1 && c->shard_count <= 65536, "%s: shard_count is %d; use 1 to 65536",
            fn, c->shard_count);
    REQUIRE(c->shard_index >= 0 && c->shard_index < c->shard_count,
            "%s: shard_index is %d; use 0 to %d (shard_count - 1)", fn, c->shard_index,
            c->shard_count - 1);
    for (int k = 0; k < c->channels; k++)
        REQUIRE(c->std[k] > 0.0f && isfinite(c->std[k]) && isfinite(c->mean[k]),
                "%s: channel %d has mean %g and std %g; std must be finite and > 0", fn, k,
                (double)c->mean[k], (double)c->std[k]);
#undef REQUIRE
    return ALEXNET_OK;
}

static float *ensure(float **buffer, size_t *capacity, size_t floats)
{
    if (*capacity < floats) {
        memory_free(*buffer);
        *buffer = memory_alloc_aligned(floats * sizeof(float));
        *capacity = *buffer ? floats : 0;
    }
    return *buffer;
}

/* One sample, augmented, converted and normalised into dest [channels, height, width]. */
static alexnet_status make_sample(alexnet_loader *ld, int64_t index, float *dest, int32_t *label)
{
    static const char fn[] = "alexnet_loader_next";
    const alexnet_loader_config *cfg = &ld->cfg;
    alexnet_tensor *source = NULL;
    alexnet_status st = dataset_read(fn, ld->ds, index, &source, label);
    if (st != ALEXNET_OK)
        return st;
    const int c = (int)source->shape[0], H = cfg->height, W = cfg->width;
    int h = (int)source->shape[1], w = (int)source->shape[2];
    const float *image = source->data;
    if (cfg->resize_shorter > 0 && (h < w ? h : w) != cfg->resize_shorter) {
        int rh, rw;
        image_shorter_side_size(h, w, cfg->resize_shorter, &rh, &rw);
        float *resized =
            ensure(&ld->scratch.resized, &ld->scratch.resized_floats, (size_t)c * rh * rw);
        if (resized == NULL) {
            alexnet_tensor_free(source);
            return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                             "%s: out of memory resizing sample %lld to %dx%d", fn,
                             (long long)index, rh, rw);
        }
        if (!image_resize_into(image, c, h, w, resized, rh, rw)) {
            alexnet_tensor_free(source);
            return error_set(ALEXNET_ERR_INTERNAL, "%s: stb_image_resize failed on sample %lld", fn,
                             (long long)index);
        }
        image = resized;
        h = rh;
        w = rw;
    }
    uint32_t draws[4];
    const uint64_t stream =
        RNG_STREAM(RNG_STREAM_AUGMENT, ((uint64_t)ld->epoch << 32) | (uint64_t)index);
    rng_bits(cfg->seed, stream, 0, draws);
    int top = (h - H) / 2, left = (w - W) / 2;
    if (cfg->random_crop) {
        const int range_y = h + 2 * cfg->pad - H, range_x = w + 2 * cfg->pad - W;
        if (range_y >= 0)
            top = -cfg->pad + (int)(draws[0] % (uint32_t)(range_y + 1));
        if (range_x >= 0)
            left = -cfg->pad + (int)(draws[1] % (uint32_t)(range_x + 1));
    }
    float *cropped = ensure(&ld->scratch.cropped, &ld->scratch.cropped_floats, (size_t)c * H * W);
    if (cropped == NULL) {
        alexnet_tensor_free(source);
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    }
    image_crop_into(image, c, h, w, top, left, H, W, cropped);
    alexnet_tensor_free(source);
    if (cfg->flip && (draws[2] & 1))
        image_flip_planes(cropped, c, H, W);
    if (cfg->pca_std > 0.0f) {
        float z[4], alpha[3];
        rng_normal4(cfg->seed, stream, 1, z);
        for (int k = 0; k < 3; k++)
            alpha[k] = z[k] * cfg->pca_std;
        image_color_jitter_into(cropped, (size_t)H * W, &cfg->pca, alpha);
    }
    const size_t plane = (size_t)H * W;
    image_convert_channels(cropped, c, dest, cfg->channels, plane);
    for (int k = 0; k < cfg->channels; k++) {
        const float mean = cfg->mean[k], inv = 1.0f / cfg->std[k];
        float *channel = dest + (size_t)k * plane;
        for (size_t i = 0; i < plane; i++)
            channel[i] = (channel[i] - mean) * inv;
    }
    return ALEXNET_OK;
}

static void clear_skipped(batch_slot *s)
{
    for (int i = 0; i < s->skipped_count; i++)
        free(s->skipped[i]);
    free(s->skipped);
    s->skipped = NULL;
    s->skipped_count = 0;
}

static void note_skipped(batch_slot *s, const char *message)
{
    char **bigger = realloc(s->skipped, sizeof *bigger * (size_t)(s->skipped_count + 1));
    if (bigger == NULL)
        return;
    s->skipped = bigger;
    size_t n = strlen(message) + 1;
    if ((s->skipped[s->skipped_count] = malloc(n)) != NULL)
        memcpy(s->skipped[s->skipped_count++], message, n);
}

static void fill_slot(alexnet_loader *ld, batch_slot *s, int64_t batch)
{
    const alexnet_loader_config *cfg = &ld->cfg;
    const size_t sample = (size_t)cfg->channels * cfg->height * cfg->width;
    /* This shard's part of global batch `batch` (the whole batch when unsharded): parts differ
     * in size by at most one sample, the larger ones last. */
    const int64_t n = ld->ds->count, shards = cfg->shard_count;
    const int64_t global = (int64_t)cfg->batch_size * shards, first = batch * global;
    const int64_t size = first + global < n ? global : n - first;
    const int64_t begin = first + size * cfg->shard_index / shards;
    const int64_t end = first + size * (cfg->shard_index + 1) / shards;
    s->status = ALEXNET_OK;
    s->count = 0;
    for (int64_t i = begin; i < end; i++) {
        alexnet_status st = make_sample(ld, ld->order[i], s->pixels + (size_t)s->count * sample,
                                        &s->labels[s->count]);
        if (st == ALEXNET_OK) {
            s->count++;
        } else if (cfg->on_bad_sample == ALEXNET_BAD_SAMPLE_SKIP) {
            note_skipped(s, alexnet_last_error());
        } else {
            s->status = st;
            snprintf(s->error, sizeof s->error, "%s", alexnet_last_error());
            break;
        }
    }
    int64_t shape[4] = {s->count > 0 ? s->count : 1, cfg->channels, cfg->height, cfg->width};
    tensor_view_init(&s->images, 4, shape, s->pixels);
}

static void *prefetch_main(void *arg)
{
    alexnet_loader *ld = arg;
    pthread_mutex_lock(&ld->lock);
    for (;;) {
        batch_slot *s = NULL;
        while (!ld->stop) {
            for (int k = 0; k < 2; k++) {
                batch_slot *c = &ld->slots[k];
                if (c->state == SLOT_EMPTY && c->batch >= 0 && (s == NULL || c->batch < s->batch))
                    s = c;
            }
            if (s != NULL)
                break;
            pthread_cond_wait(&ld->changed, &ld->lock);
        }
        if (ld->stop)
            break;
        s->state = SLOT_FILLING;
        pthread_mutex_unlock(&ld->lock);
        fill_slot(ld, s, s->batch);
        pthread_mutex_lock(&ld->lock);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&ld->changed);
    }
    pthread_mutex_unlock(&ld->lock);
    return NULL;
}

alexnet_status alexnet_loader_create(alexnet_loader **out, const alexnet_dataset *ds,
                                     const alexnet_loader_config *cfg)
{
    static const char fn[] = "alexnet_loader_create";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, ds);
    alexnet_loader_config full;
    alexnet_loader_config_init(&full, 1, 1, 1);
    alexnet_status st =
        config_copy_in(fn, "alexnet_loader_config", &full, sizeof full, cfg, LOADER_MIN_SIZE);
    if (st != ALEXNET_OK)
        return st;
    cfg = &full;
    if ((st = check_config(fn, cfg, ds)) != ALEXNET_OK)
        return st;
    alexnet_loader *ld = calloc(1, sizeof *ld);
    if (ld == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    ld->ds = ds;
    ld->cfg = full;
    const int64_t global_batch = (int64_t)cfg->batch_size * cfg->shard_count;
    ld->batches = (ds->count + global_batch - 1) / global_batch;
    ld->order = malloc(sizeof *ld->order * (size_t)ds->count);
    const size_t floats = (size_t)cfg->batch_size * cfg->channels * cfg->height * cfg->width;
    bool ok = ld->order != NULL;
    for (int k = 0; k < 2; k++) {
        ld->slots[k].pixels = memory_alloc_floats(floats);
        ld->slots[k].labels = calloc((size_t)cfg->batch_size, sizeof(int32_t));
        ld->slots[k].batch = -1;
        ok = ok && ld->slots[k].pixels && ld->slots[k].labels;
    }
    pthread_mutex_init(&ld->lock, NULL);
    pthread_cond_init(&ld->changed, NULL);
    if (!ok) {
        alexnet_loader_free(ld);
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate two batches of %zu floats",
                         fn, floats);
    }
    if (cfg->prefetch) {
        if (pthread_create(&ld->thread, NULL, prefetch_main, ld) != 0) {
            alexnet_loader_free(ld);
            return error_set(ALEXNET_ERR_INTERNAL, "%s: the prefetch thread cannot start", fn);
        }
        ld->threaded = true;
    }
    *out = ld;
    return ALEXNET_OK;
}

void alexnet_loader_free(alexnet_loader *ld)
{
    if (ld == NULL)
        return;
    if (ld->threaded) {
        pthread_mutex_lock(&ld->lock);
        ld->stop = true;
        pthread_cond_broadcast(&ld->changed);
        pthread_mutex_unlock(&ld->lock);
        pthread_join(ld->thread, NULL);
    }
    pthread_mutex_destroy(&ld->lock);
    pthread_cond_destroy(&ld->changed);
    for (int k = 0; k < 2; k++) {
        memory_free(ld->slots[k].pixels);
        free(ld->slots[k].labels);
        clear_skipped(&ld->slots[k]);
    }
    memory_free(ld->scratch.resized);
    memory_free(ld->scratch.cropped);
    free(ld->order);
    free(ld);
}

alexnet_status alexnet_loader_start_epoch(alexnet_loader *ld, int64_t epoch)
{
    static const char fn[] = "alexnet_loader_start_epoch";
    CHECK_NOT_NULL(fn, ld);
    if (epoch < 0 || epoch > ALEXNET_MAX_EPOCH)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: epoch %lld is outside 0..%d", fn,
                         (long long)epoch, ALEXNET_MAX_EPOCH);
    pthread_mutex_lock(&ld->lock);
    while (ld->slots[0].state == SLOT_FILLING || ld->slots[1].state == SLOT_FILLING)
        pthread_cond_wait(&ld->changed, &ld->lock);
    const int64_t n = ld->ds->count;
    for (int64_t i = 0; i < n; i++)
        ld->order[i] = i;
    if (ld->cfg.shuffle) /* Fisher-Yates, every swap drawn from (seed, epoch, position) */
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)rng_below(ld->cfg.seed, RNG_STREAM(RNG_STREAM_SHUFFLE, epoch),
                                           (uint64_t)i, (uint64_t)i + 1);
            int64_t t = ld->order[i];
            ld->order[i] = ld->order[j];
            ld->order[j] = t;
        }
    ld->epoch = epoch;
    ld->next_batch = 0;
    ld->started = true;
    for (int k = 0; k < 2; k++) {
        ld->slots[k].state = SLOT_EMPTY;
        ld->slots[k].batch = k < ld->batches ? k : -1;
        clear_skipped(&ld->slots[k]);
    }
    pthread_cond_broadcast(&ld->changed);
    pthread_mutex_unlock(&ld->lock);
    return ALEXNET_OK;
}

alexnet_status alexnet_loader_next(alexnet_loader *ld, alexnet_tensor **images,
                                   const int32_t **labels)
{
    static const char fn[] = "alexnet_loader_next";
    if (images != NULL)
        *images = NULL;
    if (labels != NULL)
        *labels = NULL;
    CHECK_NOT_NULL(fn, ld);
    CHECK_NOT_NULL(fn, images);
    CHECK_NOT_NULL(fn, labels);
    if (!ld->started)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: no epoch has started; call alexnet_loader_start_epoch first", fn);
    for (;;) {
        pthread_mutex_lock(&ld->lock);
        if (ld->next_batch > 0) { /* the caller is done with the previous batch */
            batch_slot *previous = &ld->slots[(ld->next_batch - 1) % 2];
            clear_skipped(previous);
            previous->state = SLOT_EMPTY;
            previous->batch = ld->next_batch + 1 < ld->batches ? ld->next_batch + 1 : -1;
            pthread_cond_broadcast(&ld->changed);
        }
        if (ld->next_batch >= ld->batches) {
            pthread_mutex_unlock(&ld->lock);
            return ALEXNET_OK; /* the epoch is over */
        }
        batch_slot *s = &ld->slots[ld->next_batch % 2];
        if (ld->threaded) {
            while (s->state != SLOT_READY)
                pthread_cond_wait(&ld->changed, &ld->lock);
        } else {
            fill_slot(ld, s, ld->next_batch);
            s->state = SLOT_READY;
        }
        ld->next_batch++;
        pthread_mutex_unlock(&ld->lock);

        for (int i = 0; i < s->skipped_count && ld->cfg.bad_sample_callback; i++)
            ld->cfg.bad_sample_callback(ld->cfg.callback_user, s->skipped[i]);
        if (s->status != ALEXNET_OK)
            return error_set(s->status, "%s", s->error);
        if (s->count == 0)
            continue; /* every sample of this batch was skipped */
        *images = &s->images;
        *labels = s->labels;
        return ALEXNET_OK;
    }
}

int64_t alexnet_loader_batches(const alexnet_loader *ld)
{
    return ld ? ld->batches : 0;
}
