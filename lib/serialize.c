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
#include "network.h"
#include "optimizer.h"
#include "safetensors.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEIGHTS_MAX_BYTES ((size_t)1 << 36) /* 64 GiB: far above any AlexNet */
#define MOMENTUM_PREFIX "optimizer."
#define MOMENTUM_SUFFIX ".momentum"
static const char FORMAT_VERSION[] = "1";
static const char *const INIT_KEYS[] = {"paper", "he"};
static const char *const SCHEDULE_KEYS[] = {"constant", "step", "plateau"};

/* ---- configuration <-> JSON ---------------------------------------------------------------- */

static char *config_to_json(const alexnet_config *cfg)
{
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:f, s:s}", "arch", arch_key(cfg->arch),
                          "in_channels", cfg->in_channels, "in_height", cfg->in_height, "in_width",
                          cfg->in_width, "num_classes", cfg->num_classes, "dropout",
                          (double)cfg->dropout, "init", INIT_KEYS[cfg->init]);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static int key_index(const char *value, const char *const *keys, int count)
{
    for (int i = 0; i < count; i++)
        if (value && strcmp(value, keys[i]) == 0)
            return i;
    return -1;
}

static alexnet_status config_from_json(const char *fn, const char *path, const char *text,
                                       alexnet_config *cfg)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    const char *arch = NULL, *init = NULL;
    int channels = 0, height = 0, width = 0, classes = 0;
    double dropout = -1.0;
    int ok = o && json_unpack(o, "{s:s, s:i, s:i, s:i, s:i, s:F, s:s}", "arch", &arch,
                              "in_channels", &channels, "in_height", &height, "in_width", &width,
                              "num_classes", &classes, "dropout", &dropout, "init", &init) == 0;
    alexnet_arch arch_index = ALEXNET_ARCH_PAPER;
    ok = ok && arch_from_key(arch, &arch_index);
    int init_index = ok ? key_index(init, INIT_KEYS, 2) : -1;
    json_decref(o);
    if (!ok || init_index < 0)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the metadata alexnet.config is not a valid configuration", fn,
                         path);
    alexnet_config_init(cfg, arch_index);
    cfg->in_channels = channels;
    cfg->in_height = height;
    cfg->in_width = width;
    cfg->num_classes = classes;
    cfg->dropout = (float)dropout;
    cfg->init = (alexnet_init)init_index;
    return ALEXNET_OK;
}

static bool parse_u64(const char *text, uint64_t *value)
{
    if (text == NULL || *text < '0' || *text > '9')
        return false;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    *value = v;
    return *end == '\0';
}

/* ---- writing ------------------------------------------------------------------------------- */

typedef struct save_job {
    const alexnet_network *net;
    const alexnet_optimizer *opt; /* NULL: weights only */
} save_job;

static char *optimizer_to_json(const alexnet_optimizer *opt)
{
    const alexnet_schedule_config *s = &opt->schedule;
    json_t *schedule = json_pack(
        "{s:s, s:f, s:i, s:i, s:f, s:f, s:o, s:i}", "kind", SCHEDULE_KEYS[s->kind], "factor",
        (double)s->factor, "step_epochs", s->step_epochs, "patience", s->patience, "threshold",
        (double)s->threshold, "min_learning_rate", (double)s->min_learning_rate, "best_error",
        isfinite(opt->best_error) ? json_real(opt->best_error) : json_null(), "bad_epochs",
        opt->bad_epochs);
    json_t *o = json_pack(
        "{s:f, s:f, s:f, s:I, s:I, s:o}", "learning_rate", (double)opt->config.learning_rate,
        "momentum", (double)opt->config.momentum, "weight_decay", (double)opt->config.weight_decay,
        "steps", (json_int_t)opt->steps, "epochs", (json_int_t)opt->epochs, "schedule", schedule);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static char *class_names_to_json(const alexnet_network *net)
{
    json_t *names = json_array();
    for (int i = 0; i < net->config.num_classes; i++)
        json_array_append_new(names, json_string(net->class_names[i]));
    char *text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    return text;
}

/* Reads "alexnet.classes" (a JSON array of num_classes strings) when the file has it. */
static alexnet_status class_names_from_file(const char *fn, const char *path, const safetensors *st,
                                            alexnet_network *net)
{
    const char *text = safetensors_metadata(st, "alexnet.classes");
    if (text == NULL)
        return ALEXNET_OK;
    json_error_t jerr;
    json_t *names = json_loads(text, 0, &jerr);
    const int n = net->config.num_classes;
    const char **list = calloc((size_t)n, sizeof *list);
    bool ok = names && list && json_is_array(names) && json_array_size(names) == (size_t)n;
    for (int i = 0; ok && i < n; i++)
        ok = (list[i] = json_string_value(json_array_get(names, (size_t)i))) != NULL;
    alexnet_status status = ok ? alexnet_network_set_class_names(net, list, n) : ALEXNET_OK;
    free(list);
    json_decref(names);
    if (!ok)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.classes is not a list of %d class names", fn, path, n);
    return status;
}

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
                                          job->opt->momentum + (p->value.data - net->values)};
        }
    }
    char seed[32], step[32];
    snprintf(seed, sizeof seed, "%" PRIu64, net->seed);
    snprintf(step, sizeof step, "%" PRIu64, net->step);
    char *config = config_to_json(&net->config);
    char *classes = net->class_names ? class_names_to_json(net) : NULL;
    char *optimizer = job->opt ? optimizer_to_json(job->opt) : NULL;
    alexnet_status st;
    if (config == NULL || (job->opt && optimizer == NULL) || (net->class_names && !classes)) {
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "out of memory for the metadata");
    } else {
        st_metadata meta[6] = {{"alexnet.format", FORMAT_VERSION},
                               {"alexnet.config", config},
                               {"alexnet.seed", seed},
                               {"alexnet.step", step}};
        size_t entries_meta = 4;
        if (classes)
            meta[entries_meta++] = (st_metadata){"alexnet.classes", classes};
        if (optimizer)
            meta[entries_meta++] = (st_metadata){"alexnet.optimizer", optimizer};
        st = safetensors_write(file, entries, (size_t)count, meta, entries_meta);
    }
    free(config);
    free(classes);
    free(optimizer);
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

typedef struct loaded_file {
    uint8_t *bytes;
    safetensors st;
} loaded_file;

static alexnet_status load_file(const char *fn, const char *path, loaded_file *file)
{
    memset(file, 0, sizeof *file);
    size_t size;
    alexnet_status st = file_read_all(fn, path, WEIGHTS_MAX_BYTES, &file->bytes, &size);
    if (st == ALEXNET_OK)
        st = safetensors_parse(fn, path, file->bytes, size, &file->st);
    if (st != ALEXNET_OK) {
        free(file->bytes);
        file->bytes = NULL;
    }
    return st;
}

static void unload_file(loaded_file *file)
{
    safetensors_free(&file->st);
    free(file->bytes);
}

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

/* A failure to build what a file describes is the file's fault (FORMAT), unless the memory ran
 * out: that is reported as such, so a host does not give up on a good file. */
static alexnet_status describes_invalid(alexnet_status status, const char *fn, const char *path,
                                        const char *what)
{
    if (status == ALEXNET_ERR_OUT_OF_MEMORY)
        return error_prefix(status, "%s: '%s'", fn, path);
    return error_prefix(ALEXNET_ERR_FORMAT, "%s: '%s' holds %s", fn, path, what);
}

static void copy_weights(alexnet_network *net, const safetensors *st, const st_tensor **found)
{
    for (int i = 0; i < net->num_params; i++)
        safetensors_copy_f32(st, found[i], net->params[i].value.data);
}

alexnet_status alexnet_network_load_weights(alexnet_network *net, const char *path)
{
    static const char fn[] = "alexnet_network_load_weights";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, path);
    loaded_file file;
    alexnet_status st = load_file(fn, path, &file);
    if (st != ALEXNET_OK)
        return st;
    const st_tensor *found[NETWORK_MAX_PARAMS];
    st = match_tensors(fn, path, net, &file.st, ROLE_WEIGHTS, found);
    if (st == ALEXNET_OK)
        copy_weights(net, &file.st, found);
    unload_file(&file);
    return st;
}

/* Rebuilds the network a file describes and fills its weights. */
static alexnet_status network_from_file(const char *fn, const char *path, const loaded_file *file,
                                        alexnet_network **out)
{
    const safetensors *st = &file->st;
    const char *format = safetensors_metadata(st, "alexnet.format");
    const char *config_text = safetensors_metadata(st, "alexnet.config");
    if (format == NULL || config_text == NULL)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' has no libalexnet metadata (alexnet.format, alexnet.config); "
                         "for a PyTorch state_dict, create the network and call "
                         "alexnet_network_load_weights",
                         fn, path);
    if (strcmp(format, FORMAT_VERSION) != 0)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' is in format %.16s; this libalexnet reads format %s", fn, path,
                         format, FORMAT_VERSION);
    uint64_t seed = 0, step = 0;
    if (!parse_u64(safetensors_metadata(st, "alexnet.seed"), &seed) ||
        !parse_u64(safetensors_metadata(st, "alexnet.step"), &step))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.seed and alexnet.step must be decimal integers", fn,
                         path);
    alexnet_config cfg;
    alexnet_status status = config_from_json(fn, path, config_text, &cfg);
    alexnet_network *net = NULL;
    if (status == ALEXNET_OK)
        status = network_new(fn, &net, &cfg, seed, false);
    if (status != ALEXNET_OK)
        return describes_invalid(status, fn, path, "an invalid network");
    const st_tensor *found[NETWORK_MAX_PARAMS];
    status = match_tensors(fn, path, net, st, ROLE_WEIGHTS, found);
    if (status == ALEXNET_OK)
        status = class_names_from_file(fn, path, st, net);
    if (status != ALEXNET_OK) {
        alexnet_network_free(net);
        return status;
    }
    copy_weights(net, st, found);
    net->step = step;
    *out = net;
    return ALEXNET_OK;
}

alexnet_status alexnet_network_load(alexnet_network **out, const char *path)
{
    static const char fn[] = "alexnet_network_load";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, path);
    loaded_file file;
    alexnet_status st = load_file(fn, path, &file);
    if (st != ALEXNET_OK)
        return st;
    st = network_from_file(fn, path, &file, out);
    unload_file(&file);
    return st;
}

/* The optimizer a checkpoint describes, momentum buffers included. */
static alexnet_status optimizer_from_file(const char *fn, const char *path, const loaded_file *file,
                                          alexnet_network *net, alexnet_optimizer **out)
{
    const safetensors *st = &file->st;
    const char *text = safetensors_metadata(st, "alexnet.optimizer");
    if (text == NULL)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' holds weights but no optimizer state (alexnet.optimizer); "
                         "it is not a checkpoint",
                         fn, path);
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    double lr = 0, momentum = 0, decay = 0, factor = 0, threshold = 0, min_lr = 0;
    json_int_t steps = -1, epochs = -1;
    int step_epochs = 0, patience = 0, bad_epochs = -1;
    const char *kind = NULL;
    json_t *best = NULL;
    int ok =
        o && json_unpack(o, "{s:F, s:F, s:F, s:I, s:I, s:{s:s, s:F, s:i, s:i, s:F, s:F, s:o, s:i}}",
                         "learning_rate", &lr, "momentum", &momentum, "weight_decay", &decay,
                         "steps", &steps, "epochs", &epochs, "schedule", "kind", &kind, "factor",
                         &factor, "step_epochs", &step_epochs, "patience", &patience, "threshold",
                         &threshold, "min_learning_rate", &min_lr, "best_error", &best,
                         "bad_epochs", &bad_epochs) == 0;
    int kind_index = ok ? key_index(kind, SCHEDULE_KEYS, 3) : -1;
    ok = ok && kind_index >= 0 && steps >= 0 && epochs >= 0 && bad_epochs >= 0 &&
         (json_is_null(best) || json_is_number(best));
    double best_error = ok && json_is_number(best) ? json_number_value(best) : INFINITY;
    json_decref(o);
    if (!ok)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the metadata alexnet.optimizer is not a valid optimizer state",
                         fn, path);
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    sgd.learning_rate = (float)lr;
    sgd.momentum = (float)momentum;
    sgd.weight_decay = (float)decay;
    alexnet_schedule_config schedule;
    alexnet_schedule_config_init(&schedule, (alexnet_schedule_kind)kind_index);
    schedule.factor = (float)factor;
    schedule.step_epochs = step_epochs;
    schedule.patience = patience;
    schedule.threshold = (float)threshold;
    schedule.min_learning_rate = (float)min_lr;

    alexnet_optimizer *opt = NULL;
    alexnet_status status = alexnet_optimizer_create(&opt, net, &sgd);
    if (status == ALEXNET_OK)
        status = alexnet_optimizer_set_schedule(opt, &schedule);
    const st_tensor *found[NETWORK_MAX_PARAMS];
    if (status != ALEXNET_OK)
        status = describes_invalid(status, fn, path, "an invalid optimizer state");
    else
        status = match_tensors(fn, path, net, st, ROLE_MOMENTUM, found);
    if (status != ALEXNET_OK) {
        alexnet_optimizer_free(opt);
        return status;
    }
    for (int i = 0; i < net->num_params; i++)
        safetensors_copy_f32(st, found[i],
                             opt->momentum + (net->params[i].value.data - net->values));
    opt->steps = steps;
    opt->epochs = epochs;
    opt->best_error = (float)best_error;
    opt->bad_epochs = bad_epochs;
    *out = opt;
    return ALEXNET_OK;
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
    loaded_file file;
    alexnet_status st = load_file(fn, path, &file);
    if (st != ALEXNET_OK)
        return st;
    alexnet_network *n = NULL;
    alexnet_optimizer *o = NULL;
    st = network_from_file(fn, path, &file, &n);
    if (st == ALEXNET_OK)
        st = optimizer_from_file(fn, path, &file, n, &o);
    unload_file(&file);
    if (st != ALEXNET_OK) {
        alexnet_network_free(n);
        return st;
    }
    *net = n;
    *opt = o;
    return ALEXNET_OK;
}
