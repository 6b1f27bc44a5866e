/* Opening data sets: IDX files (MNIST, Fashion-MNIST) and ImageNet-style folder trees. */
#include "dataset.h"

#include "augment.h"
#include "error.h"
#include "fileio.h"
#include "idx.h"
#include "input_limits.h"
#include "image.h"
#include "rng.h"
#include "tensor.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void alexnet_dataset_free(alexnet_dataset *ds)
{
    if (ds == NULL)
        return;
    for (int c = 0; c < ds->classes; c++)
        free(ds->class_names ? ds->class_names[c] : NULL);
    free(ds->class_names);
    free(ds->image_file);
    free(ds->label_file);
    for (int64_t i = 0; ds->paths && i < ds->count; i++)
        free(ds->paths[i]);
    free(ds->paths);
    free(ds->folder_labels);
    free(ds);
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

alexnet_status alexnet_dataset_open_idx(alexnet_dataset **out, const char *images_path,
                                        const char *labels_path)
{
    static const char fn[] = "alexnet_dataset_open_idx";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, images_path);
    CHECK_NOT_NULL(fn, labels_path);
    alexnet_dataset *ds = calloc(1, sizeof *ds);
    if (ds == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    ds->kind = DATASET_IDX;
    ds->channels = 1;
    size_t image_size, label_size;
    idx_array images, labels;
    alexnet_status st = idx_read_file(fn, images_path, 3, &ds->image_file, &image_size);
    if (st == ALEXNET_OK)
        st = idx_read_file(fn, labels_path, 1, &ds->label_file, &label_size);
    if (st == ALEXNET_OK)
        st = idx_parse(fn, images_path, ds->image_file, image_size, 3, &images);
    if (st == ALEXNET_OK)
        st = idx_parse(fn, labels_path, ds->label_file, label_size, 1, &labels);
    if (st == ALEXNET_OK && images.dims[0] != labels.dims[0])
        st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s' holds %u images but '%s' %u labels", fn,
                       images_path, images.dims[0], labels_path, labels.dims[0]);
    const int64_t side = limits_current().max_image_side;
    if (st == ALEXNET_OK && (images.dims[0] == 0 || images.dims[1] == 0 || images.dims[2] == 0 ||
                             images.dims[1] > side || images.dims[2] > side))
        st = error_set(ALEXNET_ERR_FORMAT,
                       "%s: '%s' holds %u images of %ux%u pixels; images must have at least one "
                       "and at most %lld pixels per side (alexnet_limits.max_image_side)",
                       fn, images_path, images.dims[0], images.dims[1], images.dims[2],
                       (long long)side);
    if (st != ALEXNET_OK) {
        alexnet_dataset_free(ds);
        return st;
    }
    ds->count = images.dims[0];
    ds->height = (int)images.dims[1];
    ds->width = (int)images.dims[2];
    ds->pixels = images.data;
    ds->labels = labels.data;
    for (int64_t i = 0; i < ds->count; i++)
        ds->classes = ds->labels[i] + 1 > ds->classes ? ds->labels[i] + 1 : ds->classes;
    ds->class_names = calloc((size_t)ds->classes, sizeof *ds->class_names);
    for (int c = 0; ds->class_names && c < ds->classes; c++) {
        char name[16];
        snprintf(name, sizeof name, "%d", c % 1000);
        if ((ds->class_names[c] = copy_string(name)) == NULL)
            break;
    }
    if (ds->class_names == NULL || ds->class_names[ds->classes - 1] == NULL) {
        alexnet_dataset_free(ds);
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    }
    *out = ds;
    return ALEXNET_OK;
}

/* ---- folder trees ------------------------------------------------------------------------ */

typedef struct name_list {
    char **names;
    size_t count, capacity;
} name_list;

static bool name_list_add(name_list *list, const char *name)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        char **bigger = realloc(list->names, capacity * sizeof *bigger);
        if (bigger == NULL)
            return false;
        list->names = bigger;
        list->capacity = capacity;
    }
    return (list->names[list->count++] = copy_string(name)) != NULL;
}

static void name_list_free(name_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
    memset(list, 0, sizeof *list);
}

/* "dir/name" in a new string (NULL when out of memory). */
static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *path = malloc(a + b + 2);
    if (path) {
        memcpy(path, dir, a);
        path[a] = '/';
        memcpy(path + a + 1, name, b + 1);
    }
    return path;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0);
}

/* The entries of `dir` that are directories (want_dirs) or image files, sorted; hidden skipped. */
static alexnet_status list_dir(const char *fn, const char *dir, bool want_dirs, name_list *out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        char reason[ERRNO_TEXT_SIZE];
        return error_set(ALEXNET_ERR_IO, "%s: cannot open the folder '%s': %s", fn, dir,
                         errno_text(errno, reason, sizeof reason));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = join_path(dir, e->d_name);
        struct stat st;
        int found = path ? stat(path, &st) : -1;
        free(path);
        if (found != 0)
            continue;
        bool wanted =
            want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && is_image_name(e->d_name);
        if (wanted && !name_list_add(out, e->d_name)) {
            closedir(d);
            return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory listing '%s'", fn, dir);
        }
    }
    closedir(d);
    if (out->count)
        qsort(out->names, out->count, sizeof *out->names, compare_names);
    return ALEXNET_OK;
}

alexnet_status alexnet_dataset_open_folder(alexnet_dataset **out, const char *root, int channels)
{
    static const char fn[] = "alexnet_dataset_open_folder";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, root);
    if (channels != 1 && channels != 3)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: channels is %d; use 1 or 3", fn,
                         channels);
    name_list classes = {0}, files = {0};
    name_list paths = {0};
    int32_t *labels = NULL;
    size_t label_capacity = 0;
    alexnet_status st = list_dir(fn, root, true, &classes);
    if (st == ALEXNET_OK && classes.count == 0)
        st =
            error_set(ALEXNET_ERR_FORMAT,
                      "%s: '%s' has no class folders (expected one subfolder per class)", fn, root);
    for (size_t c = 0; st == ALEXNET_OK && c < classes.count; c++) {
        char *dir = join_path(root, classes.names[c]);
        st = dir ? list_dir(fn, dir, false, &files)
                 : error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
        for (size_t i = 0; st == ALEXNET_OK && i < files.count; i++) {
            if (paths.count == label_capacity) {
                label_capacity = label_capacity ? label_capacity * 2 : 256;
                int32_t *bigger = realloc(labels, label_capacity * sizeof *labels);
                if (bigger == NULL) {
                    st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
                    break;
                }
                labels = bigger;
            }
            labels[paths.count] = (int32_t)c;
            char *path = join_path(dir, files.names[i]);
            if (path == NULL || !name_list_add(&paths, path))
                st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
            free(path);
        }
        free(dir);
        name_list_free(&files);
    }
    if (st == ALEXNET_OK && paths.count == 0)
        st = error_set(ALEXNET_ERR_FORMAT,
                       "%s: the class folders of '%s' hold no .png or .jpg "
                       "files",
                       fn, root);
    alexnet_dataset *ds = st == ALEXNET_OK ? calloc(1, sizeof *ds) : NULL;
    if (st == ALEXNET_OK && ds == NULL)
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    if (st != ALEXNET_OK) {
        name_list_free(&classes);
        name_list_free(&paths);
        free(labels);
        return st;
    }
    ds->kind = DATASET_FOLDER;
    ds->channels = channels;
    ds->count = (int64_t)paths.count;
    ds->paths = paths.names;
    ds->folder_labels = labels;
    ds->classes = (int)classes.count;
    ds->class_names = classes.names;
    *out = ds;
    return ALEXNET_OK;
}

/* ---- access -------------------------------------------------------------------------------- */

int64_t alexnet_dataset_size(const alexnet_dataset *ds)
{
    return ds ? ds->count : 0;
}

int alexnet_dataset_num_classes(const alexnet_dataset *ds)
{
    return ds ? ds->classes : 0;
}

const char *alexnet_dataset_class_name(const alexnet_dataset *ds, int index)
{
    if (ds == NULL || index < 0 || index >= ds->classes)
        return NULL;
    return ds->class_names[index];
}

alexnet_status dataset_read(const char *fn, const alexnet_dataset *ds, int64_t index,
                            alexnet_tensor **image, int32_t *label)
{
    if (ds->kind == DATASET_FOLDER) {
        *label = ds->folder_labels[index];
        return image_load(fn, ds->paths[index], ds->channels, image);
    }
    int64_t shape[3] = {1, ds->height, ds->width};
    alexnet_status st = alexnet_tensor_create(image, 3, shape);
    if (st != ALEXNET_OK)
        return error_prefix(st, "%s", fn);
    const size_t plane = (size_t)ds->height * ds->width;
    const uint8_t *pixels = ds->pixels + (size_t)index * plane;
    for (size_t p = 0; p < plane; p++)
        (*image)->data[p] = (float)pixels[p] / 255.0f;
    *label = ds->labels[index];
    return ALEXNET_OK;
}

alexnet_status alexnet_dataset_get(const alexnet_dataset *ds, int64_t index, alexnet_tensor **image,
                                   int32_t *label)
{
    static const char fn[] = "alexnet_dataset_get";
    if (image != NULL)
        *image = NULL;
    if (label != NULL)
        *label = 0;
    CHECK_NOT_NULL(fn, image);
    CHECK_NOT_NULL(fn, ds);
    CHECK_NOT_NULL(fn, label);
    if (index < 0 || index >= ds->count)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: index %lld is out of range; the data set has %lld samples", fn,
                         (long long)index, (long long)ds->count);
    return dataset_read(fn, ds, index, image, label);
}

alexnet_status alexnet_dataset_color_pca(const alexnet_dataset *ds, int64_t max_images,
                                         uint64_t seed, alexnet_color_pca *pca)
{
    static const char fn[] = "alexnet_dataset_color_pca";
    CHECK_NOT_NULL(fn, ds);
    CHECK_NOT_NULL(fn, pca);
    if (ds->channels != 3)
        return error_set(ALEXNET_ERR_SHAPE, "%s: the data set is grey; colour PCA needs RGB", fn);
    if (max_images < 1)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: max_images is %lld; use >= 1", fn,
                         (long long)max_images);
    const int64_t n = max_images < ds->count ? max_images : ds->count;
    color_moments m;
    memset(&m, 0, sizeof m);
    for (int64_t k = 0; k < n; k++) {
        /* A random sample when there are more images than wanted. */
        int64_t index = n == ds->count
                            ? k
                            : (int64_t)rng_below(seed, RNG_STREAM(RNG_STREAM_COLOR_PCA, 0),
                                                 (uint64_t)k, (uint64_t)ds->count);
        alexnet_tensor *image = NULL;
        int32_t label;
        alexnet_status st = dataset_read(fn, ds, index, &image, &label);
        if (st != ALEXNET_OK)
            return st;
        color_pca_accumulate(&m, image->data, (size_t)(image->numel / 3));
        alexnet_tensor_free(image);
    }
    return color_pca_finish(fn, &m, pca);
}
