/* Networks and checkpoints as safetensors files.
 *
 * Metadata: "alexnet.format" ("1"), "alexnet.config" (the config as JSON), "alexnet.seed" and
 * "alexnet.step" (the dropout stream), "alexnet.classes" (class names, when set), and in
 * checkpoints "alexnet.optimizer" (JSON: the SGD hyperparameters, step and epoch counts, schedule
 * and its plateau history) next to the momentum tensors "optimizer.<name>.momentum". Loading
 * validates the whole file and the mapping of every tensor onto the network before a single value
 * is copied, so a failure changes nothing. */
#include "error.h"
#include "fileio.h"
#include "input_limits.h"
#include "metadata.h"
#include "network.h"
#include "optimizer.h"
#include "safetensors.h"
#include "serialize.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOMENTUM_PREFIX "optimizer."
#define MOMENTUM_SUFFIX ".momentum"
/* Format 2 is format 1 whose alexnet.config may hold "pool_ceil" and "lrn"; files are written in
 * format 1 unless the network uses them, so that libalexnet 1.0 reads every file it can. */
static const char FORMAT_VERSION[] = "1", FORMAT_VERSION_2[] = "2";

/* ---- writing ------------------------------------------------------------------------------- */

typedef struct save_job {
    const alexnet_network *net;
    const alexnet_optimizer *opt; /* NULL: weights only */
} save_job;

static alexnet_status write_network(FILE *file, void *ctx)
{
    const save_job *job = ctx;
    const alexnet_network *net = job->net;
    const int n = net->num_params;
    st_entry entries[2 * NETWORK_MAX_PARAMS];
    char momentum_names[NETWORK_MAX_PARAMS][64];
    int count = 0;
    for (int i = 0; i < n; i++) {
        const network_param *p = &net->params[i];
        entries[count++] = (st_entry){p->name, p->value.ndim, p->value.shape, p->value.data};
    }
    if (job->opt) {
        for (int i = 0; i < n; i++) {
            const network_param *p = &net->params[i];
            snprintf(momentum_names[i], sizeof momentum_names[i],
                     MOMENTUM_PREFIX "%s" MOMENTUM_SUFFIX, p->name);
            entries[count++] = (st_entry){momentum_names[i], p->value.ndim, p->value.shape,
                                          job->opt->momentum + p->offset};
        }
    }
    char seed[32], step[32];
    snprintf(seed, sizeof seed, "%" PRIu64, net->seed);
    snprintf(step, sizeof step, "%" PRIu64, net->step);
    char *config = metadata_config_to_json(&net->config);
    char *classes = net->class_names ? metadata_class_names_to_json(net) : NULL;
    char *optimizer = job->opt ? metadata_optimizer_to_json(job->opt) : NULL;
    char *preprocessing =
        net->has_preprocessing ? metadata_preprocessing_to_json(&net->preprocessing) : NULL;
    alexnet_status st;
    if (config == NULL || (job->opt && optimizer == NULL) || (net->class_names && !classes) ||
        (net->has_preprocessing && !preprocessing)) {
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "out of memory for the metadata");
    } else {
        st_metadata meta[7] = {{"alexnet.format", arch_uses_format_2(&net->config)
                                                      ? FORMAT_VERSION_2
                                                      : FORMAT_VERSION},
                               {"alexnet.config", config},
                               {"alexnet.seed", seed},
                               {"alexnet.step", step}};
        size_t entries_meta = 4;
        if (classes)
            meta[entries_meta++] = (st_metadata){"alexnet.classes", classes};
        if (optimizer)
            meta[entries_meta++] = (st_metadata){"alexnet.optimizer", optimizer};
        if (preprocessing)
            meta[entries_meta++] = (st_metadata){"alexnet.preprocessing", preprocessing};
        st = safetensors_write(file, entries, (size_t)count, meta, entries_meta);
    }
    free(config);
    free(classes);
    free(optimizer);
    free(preprocessing);
    return st;
}

alexnet_status alexnet_network_save(const alexnet_network *net, const char *path)
{
    static const char fn[] = "alexnet_network_save";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, path);
    save_job job = {net, NULL};
    return file_write_atomic(fn, path, write_network, &job);
}

alexnet_status alexnet_checkpoint_save(const alexnet_network *net, const alexnet_optimizer *opt,
                                       const char *path)
{
    static const char fn[] = "alexnet_checkpoint_save";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, opt);
    CHECK_NOT_NULL(fn, path);
    if (opt->net != net)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the optimizer was created for another network", fn);
    save_job job = {net, opt};
    return file_write_atomic(fn, path, write_network, &job);
}

/* ---- reading ------------------------------------------------------------------------------- */

/* A parsed model file is refused when its tensors exceed alexnet_limits.max_model_bytes. */
static alexnet_status check_model_size(const char *fn, const char *label, safetensors *st)
{
    const int64_t limit = limits_current().max_model_bytes;
    if (st->data_size <= (uint64_t)limit)
        return ALEXNET_OK;
    safetensors_free(st);
    return error_set(ALEXNET_ERR_FORMAT,
                     "%s: '%s' holds %.1f MiB of tensors, more than the %.1f MiB that "
                     "alexnet_limits.max_model_bytes allows",
                     fn, label, (double)st->data_size / 1048576.0, (double)limit / 1048576.0);
}

/* The safetensors image of a model file in memory, checked against alexnet_limits. */
static alexnet_status parse_model(const char *fn, const char *label, const uint8_t *bytes,
                                  size_t size, safetensors *st)
{
    alexnet_status status = safetensors_parse(fn, label, bytes, size, st);
    return status == ALEXNET_OK ? check_model_size(fn, label, st) : status;
}

/* An open model file and its validated header; the tensors are read (or mapped) from it later. */
typedef struct model_file {
    int fd;
    uint64_t size;
    safetensors st;
} model_file;

static alexnet_status open_model_file(const char *fn, const char *path, model_file *f)
{
    const size_t max_bytes = (size_t)limits_current().max_model_bytes + SAFETENSORS_MAX_HEADER + 8;
    alexnet_status status = file_open_regular(fn, path, max_bytes, &f->fd, &f->size);
    if (status == ALEXNET_OK)
        status = safetensors_read_header(fn, path, f->fd, f->size, &f->st);
    if (status == ALEXNET_OK)
        status = check_model_size(fn, path, &f->st);
    if (status != ALEXNET_OK && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    return status;
}

static void close_model_file(model_file *f)
{
    safetensors_free(&f->st);
    close(f->fd);
}

/* Where a model's tensor values come from: a file image in memory (st->data), or an open file. */
typedef struct tensor_source {
    const char *label;
    const safetensors *st;
    int fd; /* -1: the values are in st->data */
} tensor_source;

static bool is_momentum_name(const char *name)
{
    return strncmp(name, MOMENTUM_PREFIX, strlen(MOMENTUM_PREFIX)) == 0;
}

static alexnet_status check_tensor(const char *fn, const char *path, const st_tensor *t,
                                   const alexnet_tensor *want, const char *role)
{
    if (strcmp(t->dtype, "F32") != 0)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': tensor '%s' has dtype %s; libalexnet reads F32 only", fn, path,
                         t->name, t->dtype);
    if (!tensor_shape_equals(want, t->ndim, t->shape)) {
        char got[128], expected[128];
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': tensor '%s' has shape %s; %s is %s", fn,
                         path, t->name, tensor_shape_format(got, sizeof got, t->ndim, t->shape),
                         role,
                         tensor_shape_format(expected, sizeof expected, want->ndim, want->shape));
    }
    return ALEXNET_OK;
}

/* What a file's tensors hold: the network's weights, or a checkpoint's momentum buffers. */
typedef enum tensor_role { ROLE_WEIGHTS, ROLE_MOMENTUM } tensor_role;

/* The parameter that file tensor `name` of `role` stands for: its index, -1 for none, or -2 for a
 * tensor of the other role (which this pass skips). */
static int param_index_of(alexnet_network *net, const char *name, tensor_role role)
{
    if (is_momentum_name(name) != (role == ROLE_MOMENTUM))
        return -2;
    if (role == ROLE_WEIGHTS) {
        const network_param *p = network_find_param(net, name);
        return p == NULL ? -1 : (int)(p - net->params);
    }
    for (int i = 0; i < net->num_params; i++) {
        char expected[64];
        snprintf(expected, sizeof expected, MOMENTUM_PREFIX "%s" MOMENTUM_SUFFIX,
                 net->params[i].name);
        if (strcmp(expected, name) == 0)
            return i;
    }
    return -1;
}

/* Maps every tensor of `role` in the file onto a parameter (found[i] for parameter i), checking
 * names, dtypes and shapes and that each parameter has exactly one; nothing is copied. */
static alexnet_status match_tensors(const char *fn, const char *path, alexnet_network *net,
                                    const safetensors *st, tensor_role role,
                                    const st_tensor **found)
{
    const char *what = role == ROLE_WEIGHTS ? "the network's" : "the momentum of";
    const char *named = role == ROLE_WEIGHTS ? "parameter" : "the momentum of";
    for (int i = 0; i < net->num_params; i++)
        found[i] = NULL;
    for (size_t k = 0; k < st->count; k++) {
        const st_tensor *t = &st->tensors[k];
        int i = param_index_of(net, t->name, role);
        if (i == -2)
            continue;
        if (i < 0)
            return role == ROLE_WEIGHTS
                       ? error_set(ALEXNET_ERR_FORMAT,
                                   "%s: '%s': tensor '%s' is not a parameter of this network "
                                   "(names are conv1.weight ... fc8.bias or torchvision's "
                                   "features.0.weight ...)",
                                   fn, path, t->name)
                       : error_set(ALEXNET_ERR_FORMAT,
                                   "%s: '%s': tensor '%s' is not optimizer state", fn, path,
                                   t->name);
        if (found[i])
            return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': tensors '%s' and '%s' both name %s %s",
                             fn, path, found[i]->name, t->name, named, net->params[i].name);
        char role_text[64];
        snprintf(role_text, sizeof role_text, "%s %s", what, net->params[i].name);
        alexnet_status status = check_tensor(fn, path, t, &net->params[i].value, role_text);
        if (status != ALEXNET_OK)
            return status;
        found[i] = t;
    }
    for (int i = 0; i < net->num_params; i++)
        if (found[i] == NULL)
            return role == ROLE_WEIGHTS
                       ? error_set(ALEXNET_ERR_FORMAT, "%s: '%s' has no tensor for %s (or %s)", fn,
                                   path, net->params[i].name, net->params[i].torch_name)
                       : error_set(ALEXNET_ERR_FORMAT, "%s: '%s' has no momentum for %s", fn, path,
                                   net->params[i].name);
    return ALEXNET_OK;
}

/* Reads the tensor found[i] of every parameter i into its place in `arena` (the arena layout). */
static alexnet_status read_tensors(const char *fn, const tensor_source *src,
                                   const alexnet_network *net, const st_tensor *const *found,
                                   float *arena)
{
    for (int i = 0; i < net->num_params; i++) {
        float *dest = arena + net->params[i].offset;
        if (src->fd < 0) {
            safetensors_copy_f32(src->st, found[i], dest);
            continue;
        }
        alexnet_status status =
            safetensors_read_f32(fn, src->label, src->fd, src->st, found[i], dest);
        if (status != ALEXNET_OK)
            return status;
    }
    return ALEXNET_OK;
}

/* The new values go into a new arena that replaces the old only once all are read, so a failure
 * (a file cut short under us, say) leaves the network as it was. */
static alexnet_status load_weights_from(const char *fn, const tensor_source *src,
                                        alexnet_network *net)
{
    const st_tensor *found[NETWORK_MAX_PARAMS];
    alexnet_status status = network_check_unshared(fn, net);
    if (status == ALEXNET_OK)
        status = match_tensors(fn, src->label, net, src->st, ROLE_WEIGHTS, found);
    if (status != ALEXNET_OK)
        return status;
    weights *w = network_blank_arena(net);
    if (w == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate %.1f MiB to read the weights of '%s' into (the "
                         "network keeps its own until the new ones are complete)",
                         fn, (double)net->param_floats * 4.0 / 1048576.0, src->label);
    status = read_tensors(fn, src, net, found, w->arena);
    if (status == ALEXNET_OK)
        network_set_weights(net, w, NULL);
    else
        weights_release(w);
    return status;
}

alexnet_status serialize_load_weights(const char *fn, const char *label, const uint8_t *bytes,
                                      size_t size, alexnet_network *net)
{
    safetensors st;
    alexnet_status status = parse_model(fn, label, bytes, size, &st);
    if (status != ALEXNET_OK)
        return status;
    const tensor_source src = {label, &st, -1};
    status = load_weights_from(fn, &src, net);
    safetensors_free(&st);
    return status;
}

alexnet_status alexnet_network_load_weights(alexnet_network *net, const char *path)
{
    static const char fn[] = "alexnet_network_load_weights";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, path);
    model_file f;
    alexnet_status status = open_model_file(fn, path, &f);
    if (status != ALEXNET_OK)
        return status;
    const tensor_source src = {path, &f.st, f.fd};
    status = load_weights_from(fn, &src, net);
    close_model_file(&f);
    return status;
}

/* Everything a model file or checkpoint describes, checked before anything is allocated: the
 * network (described, not yet allocated), the tensor for each parameter (and its momentum), the
 * optimizer state and the class names. */
typedef struct file_contents {
    alexnet_network *net;
    const st_tensor *weights[NETWORK_MAX_PARAMS];
    const st_tensor *momentum[NETWORK_MAX_PARAMS];
    bool has_optimizer;
    optimizer_state optimizer;
    char **class_names;
    alexnet_preprocessing preprocessing;
    bool has_preprocessing;
    uint64_t step;
} file_contents;

static void contents_free(file_contents *c)
{
    if (c->net)
        metadata_class_names_free(c->class_names, c->net->config.num_classes);
    alexnet_network_free(c->net);
    memset(c, 0, sizeof *c);
}

/* Reads the metadata, describes the network and maps every tensor onto it, so that the sizes the
 * configuration implies are known to equal the file's data before any of them is allocated. */
static alexnet_status read_contents(const char *fn, const char *path, const safetensors *st,
                                    bool with_optimizer, file_contents *c)
{
    memset(c, 0, sizeof *c);
    const char *format = safetensors_metadata(st, "alexnet.format");
    const char *config_text = safetensors_metadata(st, "alexnet.config");
    if (format == NULL || config_text == NULL)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' has no libalexnet metadata (alexnet.format, alexnet.config); "
                         "for a PyTorch state_dict, create the network and call "
                         "alexnet_network_load_weights",
                         fn, path);
    if (strcmp(format, FORMAT_VERSION) != 0 && strcmp(format, FORMAT_VERSION_2) != 0)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' is in format %.16s; this libalexnet reads formats %s and %s", fn,
                         path, format, FORMAT_VERSION, FORMAT_VERSION_2);
    uint64_t seed = 0;
    if (!metadata_parse_u64(safetensors_metadata(st, "alexnet.seed"), &seed) ||
        !metadata_parse_u64(safetensors_metadata(st, "alexnet.step"), &c->step))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.seed and alexnet.step must be decimal integers from 0 "
                         "to 18446744073709551615",
                         fn, path);
    const char *optimizer_text = safetensors_metadata(st, "alexnet.optimizer");
    if (with_optimizer && optimizer_text == NULL)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' holds weights but no optimizer state (alexnet.optimizer); "
                         "it is not a checkpoint",
                         fn, path);
    alexnet_config cfg;
    alexnet_status status = metadata_config_from_json(fn, path, config_text, &cfg);
    if (status == ALEXNET_OK && with_optimizer)
        status = metadata_optimizer_from_json(fn, path, optimizer_text, &c->optimizer);
    if (status != ALEXNET_OK)
        return status;
    status = network_describe(fn, &c->net, &cfg, seed);
    if (status == ALEXNET_ERR_OUT_OF_MEMORY)
        return error_prefix(status, "%s: '%s'", fn, path);
    if (status != ALEXNET_OK) /* a configuration the architecture cannot be built for */
        return error_prefix(ALEXNET_ERR_FORMAT, "%s: '%s' holds an invalid network", fn, path);
    c->has_optimizer = with_optimizer;
    const int64_t limit = limits_current().max_model_bytes;
    const double bytes = (double)network_param_count(c->net) * 4.0 * (with_optimizer ? 2 : 1);
    if (bytes > (double)limit)
        status = error_set(ALEXNET_ERR_FORMAT,
                           "%s: '%s' describes %.1f MiB of parameters%s, more than the %.1f MiB "
                           "that alexnet_limits.max_model_bytes allows",
                           fn, path, bytes / 1048576.0, with_optimizer ? " and momentum" : "",
                           (double)limit / 1048576.0);
    if (status == ALEXNET_OK)
        status = match_tensors(fn, path, c->net, st, ROLE_WEIGHTS, c->weights);
    if (status == ALEXNET_OK && with_optimizer)
        status = match_tensors(fn, path, c->net, st, ROLE_MOMENTUM, c->momentum);
    const char *classes = safetensors_metadata(st, "alexnet.classes");
    if (status == ALEXNET_OK && classes != NULL)
        status = metadata_class_names_from_json(fn, path, classes, c->net->config.num_classes,
                                                &c->class_names);
    const char *preprocessing = safetensors_metadata(st, "alexnet.preprocessing");
    if (status == ALEXNET_OK && preprocessing != NULL) {
        status = metadata_preprocessing_from_json(fn, path, preprocessing,
                                                  c->net->config.in_channels, &c->preprocessing);
        c->has_preprocessing = status == ALEXNET_OK;
    }
    if (status != ALEXNET_OK)
        contents_free(c);
    return status;
}

/* Hands the described network, now holding its weights, to the caller with what else the file
 * holds. */
static void finish_contents(file_contents *c, alexnet_optimizer *o, alexnet_network **net,
                            alexnet_optimizer **opt)
{
    c->net->step = c->step;
    c->net->class_names = c->class_names;
    c->net->preprocessing = c->preprocessing;
    c->net->has_preprocessing = c->has_preprocessing;
    if (o != NULL) {
        o->steps = c->optimizer.steps;
        o->epochs = c->optimizer.epochs;
        o->best_error = c->optimizer.best_error;
        o->bad_epochs = c->optimizer.bad_epochs;
    }
    *net = c->net;
    if (opt)
        *opt = o;
}

/* Allocates what read_contents described and reads the file's values into it. */
static alexnet_status build_contents(const char *fn, const tensor_source *src, file_contents *c,
                                     alexnet_network **net, alexnet_optimizer **opt)
{
    alexnet_optimizer *o = NULL;
    alexnet_status st = network_allocate(fn, c->net, false);
    if (st == ALEXNET_OK && c->has_optimizer) {
        st = alexnet_optimizer_create(&o, c->net, &c->optimizer.sgd);
        if (st == ALEXNET_OK)
            st = alexnet_optimizer_set_schedule(o, &c->optimizer.schedule);
    }
    if (st != ALEXNET_OK)
        error_prefix(st, "%s: '%s'", fn, src->label);
    if (st == ALEXNET_OK)
        st = read_tensors(fn, src, c->net, c->weights, network_values(c->net));
    if (st == ALEXNET_OK && o != NULL)
        st = read_tensors(fn, src, c->net, c->momentum, o->momentum);
    if (st != ALEXNET_OK) {
        alexnet_optimizer_free(o);
        contents_free(c);
        return st;
    }
    finish_contents(c, o, net, opt);
    return ALEXNET_OK;
}

/* Points the described network's parameters into the mapped file; false (nothing changed) when
 * the file cannot be mapped or its values cannot be used in place. */
static bool map_contents(const model_file *f, file_contents *c)
{
    weights *w = weights_map(f->fd, (size_t)f->size);
    float *data[NETWORK_MAX_PARAMS];
    for (int i = 0; w != NULL && i < c->net->num_params; i++) {
        /* The mapping is private and writable: the views may be non-const. */
        data[i] = (float *)safetensors_mapped_f32(&f->st, c->weights[i], w->mapping);
        if (data[i] == NULL) {
            weights_release(w);
            w = NULL;
        }
    }
    if (w != NULL)
        network_set_weights(c->net, w, data);
    return w != NULL;
}

alexnet_status serialize_load_model(const char *fn, const char *label, const uint8_t *bytes,
                                    size_t size, alexnet_network **net, alexnet_optimizer **opt)
{
    safetensors st;
    alexnet_status status = parse_model(fn, label, bytes, size, &st);
    if (status != ALEXNET_OK)
        return status;
    file_contents c;
    status = read_contents(fn, label, &st, opt != NULL, &c);
    const tensor_source src = {label, &st, -1};
    if (status == ALEXNET_OK)
        status = build_contents(fn, &src, &c, net, opt);
    safetensors_free(&st);
    return status;
}

/* The file half of alexnet_network_load(_mapped) and alexnet_checkpoint_load (opt NULL: no
 * optimizer): the header is validated and the network described before a single value is read,
 * and the values go straight from the file into the network's arena (or stay in the mapping). */
static alexnet_status load_model_file(const char *fn, const char *path, bool map,
                                      alexnet_network **net, alexnet_optimizer **opt)
{
    model_file f;
    alexnet_status status = open_model_file(fn, path, &f);
    if (status != ALEXNET_OK)
        return status;
    file_contents c;
    status = read_contents(fn, path, &f.st, opt != NULL, &c);
    if (status == ALEXNET_OK && map && map_contents(&f, &c)) {
        finish_contents(&c, NULL, net, NULL);
    } else if (status == ALEXNET_OK) {
        const tensor_source src = {path, &f.st, f.fd};
        status = build_contents(fn, &src, &c, net, opt);
    }
    close_model_file(&f);
    return status;
}

alexnet_status alexnet_network_load(alexnet_network **out, const char *path)
{
    static const char fn[] = "alexnet_network_load";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, path);
    return load_model_file(fn, path, false, out, NULL);
}

alexnet_status alexnet_network_load_mapped(alexnet_network **out, const char *path)
{
    static const char fn[] = "alexnet_network_load_mapped";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, path);
    return load_model_file(fn, path, true, out, NULL);
}

alexnet_status alexnet_checkpoint_load(alexnet_network **net, alexnet_optimizer **opt,
                                       const char *path)
{
    static const char fn[] = "alexnet_checkpoint_load";
    if (net != NULL)
        *net = NULL;
    if (opt != NULL)
        *opt = NULL;
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, opt);
    CHECK_NOT_NULL(fn, path);
    return load_model_file(fn, path, false, net, opt);
}
