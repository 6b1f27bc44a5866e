#include "metadata.h"

#include "error.h"
#include "network.h"
#include "optimizer.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const INIT_KEYS[] = {"paper", "he"};
static const char *const ACTIVATION_KEYS[] = {"relu", "tanh"};
static const char *const SCHEDULE_KEYS[] = {"constant", "step", "plateau"};

/* Reads fields of one JSON object; the first failure is kept as the status and later reads do
 * nothing, so a reader is a straight list of fields followed by one check. */
typedef struct field_reader {
    const char *fn, *path, *what; /* what: the metadata key, for messages */
    alexnet_status status;
} field_reader;

static json_t *field_get(field_reader *r, json_t *object, const char *key)
{
    if (r->status != ALEXNET_OK)
        return NULL;
    json_t *value = json_object_get(object, key);
    if (value == NULL)
        r->status = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': %s has no field '%s'", r->fn, r->path,
                              r->what, key);
    return value;
}

static void field_integer(field_reader *r, json_t *object, const char *key, json_int_t lo,
                          json_int_t hi, json_int_t *out)
{
    json_t *value = field_get(r, object, key);
    if (value == NULL)
        return;
    if (!json_is_integer(value) || json_integer_value(value) < lo ||
        json_integer_value(value) > hi) {
        char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        r->status = error_set(ALEXNET_ERR_FORMAT,
                              "%s: '%s': %s field '%s' is %.40s; it must be an integer from %" PRId64
                              " to %" PRId64,
                              r->fn, r->path, r->what, key, text ? text : "not readable",
                              (int64_t)lo, (int64_t)hi);
        free(text);
        return;
    }
    *out = json_integer_value(value);
}

static void field_int(field_reader *r, json_t *object, const char *key, int lo, int *out)
{
    json_int_t v = 0;
    field_integer(r, object, key, lo, INT_MAX, &v);
    if (r->status == ALEXNET_OK)
        *out = (int)v;
}

/* A number that a float holds (finite, at most FLT_MAX in size), or null where `null_value` is
 * not NaN. */
static void value_float(field_reader *r, const char *key, json_t *value, float null_value,
                        float *out)
{
    if (json_is_null(value) && !isnan(null_value)) {
        *out = null_value;
        return;
    }
    const double v = json_is_number(value) ? json_number_value(value) : NAN;
    if (!(fabs(v) <= FLT_MAX)) {
        r->status = error_set(ALEXNET_ERR_FORMAT,
                              "%s: '%s': %s field '%s' must be a finite number within the range "
                              "of a float",
                              r->fn, r->path, r->what, key);
        return;
    }
    *out = (float)v;
}

static void field_float(field_reader *r, json_t *object, const char *key, float null_value,
                        float *out)
{
    json_t *value = field_get(r, object, key);
    if (value != NULL)
        value_float(r, key, value, null_value, out);
}

static void field_key(field_reader *r, json_t *object, const char *key, const char *const *keys,
                      int count, int *index)
{
    json_t *value = field_get(r, object, key);
    if (value == NULL)
        return;
    for (int i = 0; i < count; i++)
        if (json_is_string(value) && strcmp(json_string_value(value), keys[i]) == 0) {
            *index = i;
            return;
        }
    r->status = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': %s field '%s' is not one of %s%s%s%s%s",
                          r->fn, r->path, r->what, key, keys[0], count > 1 ? ", " : "",
                          count > 1 ? keys[1] : "", count > 2 ? ", " : "",
                          count > 2 ? keys[2] : "");
}

static json_t *parse_object(field_reader *r, const char *text)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        r->status = error_set(ALEXNET_ERR_FORMAT,
                              "%s: '%s': the metadata %s is not a JSON object (%s)", r->fn, r->path,
                              r->what, o ? "another kind of value" : jerr.text);
        return NULL;
    }
    return o;
}

/* Compact JSON text of `value` (release with free), which is released; NULL when memory ran out
 * (json_dumps takes NULL too). */
static char *dump_and_release(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(value);
    return text;
}

/* ---- configuration ------------------------------------------------------------------------- */

char *metadata_config_to_json(const alexnet_config *cfg)
{
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:f, s:s}", "arch", arch_key(cfg->arch),
                          "in_channels", cfg->in_channels, "in_height", cfg->in_height, "in_width",
                          cfg->in_width, "num_classes", cfg->num_classes, "dropout",
                          (double)cfg->dropout, "init", INIT_KEYS[cfg->init]);
    /* LRN: its constants where the network has it, false where the architecture's is off. */
    json_t *lrn = cfg->lrn ? json_pack("{s:i, s:f, s:f, s:f}", "size", cfg->lrn_size, "alpha",
                                       (double)cfg->lrn_alpha, "beta", (double)cfg->lrn_beta, "k",
                                       (double)cfg->lrn_k)
                           : arch_has_lrn(cfg->arch) ? json_false()
                                                     : NULL;
    bool failed = o == NULL;
    if (!failed && arch_uses_format_2(cfg))
        failed = json_object_set_new(o, "pool_ceil", json_integer(cfg->pool_ceil)) != 0 ||
                 json_object_set_new(o, "pool_size", json_integer(cfg->pool_size)) != 0 ||
                 json_object_set_new(o, "activation",
                                     json_string(ACTIVATION_KEYS[cfg->activation])) != 0 ||
                 (lrn != NULL && json_object_set(o, "lrn", lrn) != 0);
    /* The starting bias changes no computation, so it needs no format 2: older readers skip it. */
    if (!failed && cfg->init_bias != 1.0f)
        failed = json_object_set_new(o, "init_bias", json_real((double)cfg->init_bias)) != 0;
    json_decref(lrn);
    if (failed) {
        json_decref(o); /* out of memory: a file without them would hold another network */
        return NULL;
    }
    return dump_and_release(o);
}

alexnet_status metadata_config_from_json(const char *fn, const char *path, const char *text,
                                         alexnet_config *cfg)
{
    field_reader r = {fn, path, "alexnet.config", ALEXNET_OK};
    json_t *o = parse_object(&r, text);
    alexnet_config read;
    memset(&read, 0, sizeof read);
    json_t *arch = field_get(&r, o, "arch");
    if (r.status == ALEXNET_OK &&
        !(json_is_string(arch) && arch_from_key(json_string_value(arch), &read.arch)))
        r.status = error_set(ALEXNET_ERR_FORMAT,
                             "%s: '%s': alexnet.config field 'arch' is not paper, torchvision or "
                             "mini",
                             fn, path);
    if (r.status == ALEXNET_OK)
        alexnet_config_init(&read, read.arch);
    int init = 0;
    field_int(&r, o, "in_channels", INT_MIN, &read.in_channels);
    field_int(&r, o, "in_height", INT_MIN, &read.in_height);
    field_int(&r, o, "in_width", INT_MIN, &read.in_width);
    field_int(&r, o, "num_classes", INT_MIN, &read.num_classes);
    field_float(&r, o, "dropout", NAN, &read.dropout);
    field_key(&r, o, "init", INIT_KEYS, 2, &init);
    /* Format 2 fields: absent means the defaults just set. */
    if (r.status == ALEXNET_OK && json_object_get(o, "pool_ceil"))
        field_int(&r, o, "pool_ceil", INT_MIN, &read.pool_ceil);
    if (r.status == ALEXNET_OK && json_object_get(o, "pool_size"))
        field_int(&r, o, "pool_size", INT_MIN, &read.pool_size);
    int activation = 0;
    if (r.status == ALEXNET_OK && json_object_get(o, "activation"))
        field_key(&r, o, "activation", ACTIVATION_KEYS, 2, &activation);
    read.activation = (alexnet_activation)activation;
    if (r.status == ALEXNET_OK && json_object_get(o, "init_bias"))
        field_float(&r, o, "init_bias", NAN, &read.init_bias);
    json_t *lrn = r.status == ALEXNET_OK ? json_object_get(o, "lrn") : NULL;
    if (json_is_false(lrn)) {
        read.lrn = 0;
    } else if (lrn != NULL) { /* constants; on an architecture without LRN they change nothing */
        field_reader lr = {fn, path, "alexnet.config.lrn", ALEXNET_OK};
        field_int(&lr, lrn, "size", INT_MIN, &read.lrn_size);
        field_float(&lr, lrn, "alpha", NAN, &read.lrn_alpha);
        field_float(&lr, lrn, "beta", NAN, &read.lrn_beta);
        field_float(&lr, lrn, "k", NAN, &read.lrn_k);
        r.status = lr.status;
    }
    json_decref(o);
    if (r.status != ALEXNET_OK)
        return r.status;
    read.init = (alexnet_init)init;
    alexnet_status st = network_config_resolve(fn, &read, cfg);
    if (st != ALEXNET_OK)
        return error_prefix(ALEXNET_ERR_FORMAT, "%s: '%s' holds an invalid network", fn, path);
    return ALEXNET_OK;
}

/* ---- optimizer state ----------------------------------------------------------------------- */

char *metadata_optimizer_to_json(const alexnet_optimizer *opt)
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
    return dump_and_release(o);
}

alexnet_status metadata_optimizer_from_json(const char *fn, const char *path, const char *text,
                                            optimizer_state *out)
{
    field_reader r = {fn, path, "alexnet.optimizer", ALEXNET_OK};
    json_t *o = parse_object(&r, text);
    optimizer_state s;
    memset(&s, 0, sizeof s);
    alexnet_sgd_config_init(&s.sgd);
    field_float(&r, o, "learning_rate", NAN, &s.sgd.learning_rate);
    field_float(&r, o, "momentum", NAN, &s.sgd.momentum);
    field_float(&r, o, "weight_decay", NAN, &s.sgd.weight_decay);
    json_int_t steps = 0, epochs = 0;
    field_integer(&r, o, "steps", 0, INT64_MAX, &steps);
    field_integer(&r, o, "epochs", 0, INT64_MAX, &epochs);
    json_t *schedule = field_get(&r, o, "schedule");
    int kind = 0;
    r.what = "alexnet.optimizer's schedule";
    field_key(&r, schedule, "kind", SCHEDULE_KEYS, 3, &kind);
    if (r.status == ALEXNET_OK)
        alexnet_schedule_config_init(&s.schedule, (alexnet_schedule_kind)kind);
    field_float(&r, schedule, "factor", NAN, &s.schedule.factor);
    field_int(&r, schedule, "step_epochs", INT_MIN, &s.schedule.step_epochs);
    field_int(&r, schedule, "patience", INT_MIN, &s.schedule.patience);
    field_float(&r, schedule, "threshold", NAN, &s.schedule.threshold);
    field_float(&r, schedule, "min_learning_rate", NAN, &s.schedule.min_learning_rate);
    field_float(&r, schedule, "best_error", INFINITY, &s.best_error);
    field_int(&r, schedule, "bad_epochs", 0, &s.bad_epochs);
    json_decref(o);
    if (r.status != ALEXNET_OK)
        return r.status;
    const alexnet_sgd_config sgd = s.sgd;
    const alexnet_schedule_config schedule_read = s.schedule;
    alexnet_status st = optimizer_sgd_resolve(fn, &sgd, &s.sgd);
    if (st == ALEXNET_OK)
        st = optimizer_schedule_resolve(fn, &schedule_read, &s.schedule);
    if (st != ALEXNET_OK)
        return error_prefix(ALEXNET_ERR_FORMAT, "%s: '%s' holds an invalid optimizer state", fn,
                            path);
    if (s.bad_epochs >= s.schedule.patience)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.optimizer's schedule has bad_epochs %d; it must be "
                         "below patience (%d)",
                         fn, path, s.bad_epochs, s.schedule.patience);
    s.steps = steps;
    s.epochs = epochs;
    *out = s;
    return ALEXNET_OK;
}

/* ---- preprocessing ------------------------------------------------------------------------- */

static const char *const RESIZE_KEYS[] = {"none", "shorter", "square"};
static const char *const CHANNEL_ORDER_KEYS[] = {"rgb", "bgr"};

char *metadata_preprocessing_to_json(const alexnet_preprocessing *p)
{
    return dump_and_release(json_pack(
        "{s:s, s:i, s:s, s:f, s:[f, f, f], s:[f, f, f]}", "resize", RESIZE_KEYS[p->resize], "side",
        p->resize_side, "channels", CHANNEL_ORDER_KEYS[p->bgr], "scale", (double)p->scale, "mean",
        (double)p->mean[0], (double)p->mean[1], (double)p->mean[2], "std", (double)p->std[0],
        (double)p->std[1], (double)p->std[2]));
}

/* Three floats of a JSON array field. */
static void field_triple(field_reader *r, json_t *object, const char *key, float out[3])
{
    json_t *list = field_get(r, object, key);
    if (r->status != ALEXNET_OK)
        return;
    if (!json_is_array(list) || json_array_size(list) != 3) {
        r->status =
            error_set(ALEXNET_ERR_FORMAT, "%s: '%s': %s field '%s' is not a list of 3 numbers",
                      r->fn, r->path, r->what, key);
        return;
    }
    for (size_t c = 0; c < 3 && r->status == ALEXNET_OK; c++)
        value_float(r, key, json_array_get(list, c), NAN, &out[c]);
}

alexnet_status metadata_preprocessing_from_json(const char *fn, const char *path, const char *text,
                                                int channels, alexnet_preprocessing *p)
{
    field_reader r = {fn, path, "alexnet.preprocessing", ALEXNET_OK};
    json_t *o = parse_object(&r, text);
    alexnet_preprocessing read;
    alexnet_preprocessing_init(&read, ALEXNET_PREPROCESSING_PLAIN);
    int resize = 0, bgr = 0;
    field_key(&r, o, "resize", RESIZE_KEYS, 3, &resize);
    field_int(&r, o, "side", INT_MIN, &read.resize_side);
    field_key(&r, o, "channels", CHANNEL_ORDER_KEYS, 2, &bgr);
    field_float(&r, o, "scale", NAN, &read.scale);
    field_triple(&r, o, "mean", read.mean);
    field_triple(&r, o, "std", read.std);
    json_decref(o);
    if (r.status != ALEXNET_OK)
        return r.status;
    read.resize = (alexnet_resize_mode)resize;
    read.bgr = bgr;
    if (preprocessing_resolve(fn, &read, p) != ALEXNET_OK)
        return error_prefix(ALEXNET_ERR_FORMAT, "%s: '%s' holds an invalid alexnet.preprocessing",
                            fn, path);
    if (p->bgr && channels != 3)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.preprocessing asks for BGR input of a network of %d "
                         "input channel(s)",
                         fn, path, channels);
    return ALEXNET_OK;
}

/* ---- class names and counters -------------------------------------------------------------- */

char *metadata_class_names_to_json(const alexnet_network *net)
{
    json_t *names = json_array();
    for (int i = 0; i < net->config.num_classes; i++)
        json_array_append_new(names, json_string(net->class_names[i]));
    return dump_and_release(names);
}

void metadata_class_names_free(char **names, int count)
{
    for (int i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
}

alexnet_status metadata_class_names_from_json(const char *fn, const char *path, const char *text,
                                              int count, char ***names)
{
    *names = NULL;
    json_error_t jerr;
    json_t *list = json_loads(text, 0, &jerr);
    bool ok = json_is_array(list) && json_array_size(list) == (size_t)count;
    for (size_t i = 0; ok && i < (size_t)count; i++)
        ok = json_is_string(json_array_get(list, i));
    if (!ok) {
        json_decref(list);
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': alexnet.classes is not a list of %d class names", fn, path,
                         count);
    }
    char **copy = calloc((size_t)count, sizeof *copy);
    for (int i = 0; copy && i < count; i++) {
        copy[i] = strdup(json_string_value(json_array_get(list, (size_t)i)));
        if (copy[i] == NULL) {
            metadata_class_names_free(copy, i);
            copy = NULL;
        }
    }
    json_decref(list);
    if (copy == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory for the class names of '%s'",
                         fn, path);
    *names = copy;
    return ALEXNET_OK;
}

bool metadata_parse_u64(const char *text, uint64_t *value)
{
    if (text == NULL || *text < '0' || *text > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return false;
    *value = (uint64_t)v;
    return true;
}
