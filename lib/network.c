/* Network lifecycle and parameters: configuration, construction from an architecture, the
 * parameter and gradient arenas with their borrowed views, initialisation, lookup by name. */
#include "network.h"

#include "config_struct.h"
#include "error.h"
#include "memory.h"
#include "metadata.h"
#include "parallel.h"
#include "rng.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The fields every caller must set (through dropout); `init` and any later field are optional,
 * and a struct_size that ends before them selects their defaults. */
#define CONFIG_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_config, dropout)

enum { MAX_CHANNELS = 64, MAX_CLASSES = 1000000 };

alexnet_status alexnet_config_init(alexnet_config *cfg, alexnet_arch arch)
{
    CHECK_NOT_NULL("alexnet_config_init", cfg);
    if (!arch_valid(arch))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "alexnet_config_init: architecture %d is unknown; use ALEXNET_ARCH_PAPER, "
                         "ALEXNET_ARCH_TORCHVISION or ALEXNET_ARCH_MINI",
                         (int)arch);
    arch_defaults(cfg, arch);
    return ALEXNET_OK;
}

static alexnet_status check_range(const char *fn, const char *field, long long value, long long lo,
                                  long long hi)
{
    if (value < lo || value > hi)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: config.%s is %lld; it must be %lld to %lld", fn, field, value, lo,
                         hi);
    return ALEXNET_OK;
}

/* lo is allowed when lo_included; hi always. NaN fails. */
static alexnet_status check_float_range(const char *fn, const char *field, float value, float lo,
                                        float hi, bool lo_included)
{
    if (!((lo_included ? value >= lo : value > lo) && value <= hi))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         lo_included ? "%s: config.%s is %g; it must be from %g to %g"
                                     : "%s: config.%s is %g; it must be above %g and at most %g",
                         fn, field, (double)value, (double)lo, (double)hi);
    return ALEXNET_OK;
}

alexnet_status network_config_resolve(const char *fn, const alexnet_config *cfg,
                                      alexnet_config *full)
{
    alexnet_config caller_arch;
    alexnet_status st = config_copy_in(fn, "alexnet_config", &caller_arch, sizeof caller_arch, cfg,
                                       CONFIG_MIN_SIZE);
    if (st != ALEXNET_OK)
        return st;
    if (!arch_valid(caller_arch.arch))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: config.arch %d is unknown", fn,
                         (int)caller_arch.arch);
    arch_defaults(full, caller_arch.arch); /* the defaults of the fields an older caller lacks */
    config_copy_in(fn, "alexnet_config", full, sizeof *full, cfg, CONFIG_MIN_SIZE);
    if ((st = check_range(fn, "in_channels", full->in_channels, 1, MAX_CHANNELS)) ||
        (st = check_range(fn, "in_height", full->in_height, 1, ALEXNET_MAX_SIDE)) ||
        (st = check_range(fn, "in_width", full->in_width, 1, ALEXNET_MAX_SIDE)) ||
        (st = check_range(fn, "num_classes", full->num_classes, 1, MAX_CLASSES)) ||
        (st = check_range(fn, "init", full->init, ALEXNET_INIT_PAPER, ALEXNET_INIT_HE)))
        return st;
    if (!(full->dropout >= 0.0f && full->dropout < 1.0f))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: config.dropout is %g; it must be in [0, 1)", fn,
                         (double)full->dropout);
    if ((st = check_range(fn, "pool_ceil", full->pool_ceil, 0, 1)) ||
        (st = check_range(fn, "lrn_size", full->lrn_size, 1, 15)) ||
        (st = check_float_range(fn, "lrn_alpha", full->lrn_alpha, 0.0f, 1.0f, true)) ||
        (st = check_float_range(fn, "lrn_beta", full->lrn_beta, 0.0f, 4.0f, true)) ||
        (st = check_float_range(fn, "lrn_k", full->lrn_k, 0.0f, 1000.0f, false)) ||
        (st = check_range(fn, "activation", full->activation, ALEXNET_ACTIVATION_RELU,
                          ALEXNET_ACTIVATION_TANH)) ||
        (st = check_range(fn, "lrn", full->lrn, 0, 1)) ||
        (st = check_range(fn, "pool_size", full->pool_size, 2, 3)) ||
        (st = check_float_range(fn, "init_bias", full->init_bias, -100.0f, 100.0f, true)))
        return st;
    if (full->lrn && !arch_has_lrn(full->arch))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: config.lrn is 1, but %s has no LRN layer; it must be 0", fn,
                         arch_name(full->arch));
    return ALEXNET_OK;
}

/* Gives every parameter view its shape and its place in the arena layout; the data pointers stay
 * NULL until storage is bound. */
static void describe_params(alexnet_network *net)
{
    size_t offset = 0;
    for (int i = 0; i < net->num_params; i++) {
        network_param *p = &net->params[i];
        const layer *l = p->owner;
        int64_t dims[4];
        int ndim;
        if (p->is_bias) {
            ndim = 1;
            dims[0] = (int64_t)layer_bias_floats(l);
        } else if (l->ops == &conv_ops) {
            ndim = 4;
            dims[0] = l->conv.out_channels;
            dims[1] = l->conv.in_channels / l->conv.groups;
            dims[2] = dims[3] = l->conv.kernel;
        } else {
            ndim = 2;
            dims[0] = l->linear.out_features;
            dims[1] = l->linear.in_features;
        }
        tensor_view_init(&p->value, ndim, dims, NULL);
        tensor_view_init(&p->grad, ndim, dims, NULL);
        p->offset = offset;
        offset += memory_round_floats((size_t)p->value.numel);
    }
    net->param_floats = offset;
}

static void bind_param(network_param *p, float *value, float *grad)
{
    layer *l = p->owner;
    p->value.data = value;
    p->grad.data = grad;
    if (p->is_bias) {
        l->bias = value;
        l->dbias = grad;
    } else {
        l->weight = value;
        l->dweight = grad;
    }
}

void network_set_weights(alexnet_network *net, weights *w, float *const *mapped_data)
{
    for (int i = 0; i < net->num_params; i++) {
        network_param *p = &net->params[i];
        bind_param(p, w->arena ? w->arena + p->offset : mapped_data[i],
                   net->grads ? net->grads + p->offset : NULL);
    }
    weights_release(net->weights);
    net->weights = w;
}

alexnet_status network_check_unshared(const char *fn, const alexnet_network *net)
{
    if (net->is_share)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: this network was made by alexnet_network_share and reads another "
                         "handle's weights; it runs inference only (train the network loaded or "
                         "created directly, with no shares alive)",
                         fn);
    const int readers = weights_readers(net->weights);
    if (readers > 1)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: %d share%s of this network (alexnet_network_share) read%s its "
                         "weights; free them before changing the weights",
                         fn, readers - 1, readers == 2 ? "" : "s", readers == 2 ? "s" : "");
    return ALEXNET_OK;
}

alexnet_status network_check_writable(const char *fn, const alexnet_network *net)
{
    alexnet_status st = network_check_unshared(fn, net);
    if (st != ALEXNET_OK)
        return st;
    if (net->weights->mapping != NULL)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: this network's weights are mapped read-only from its file "
                         "(alexnet_network_load_mapped); load it with alexnet_network_load to "
                         "train it",
                         fn);
    return ALEXNET_OK;
}

alexnet_status network_prepare_training(const char *fn, alexnet_network *net)
{
    alexnet_status st = network_check_writable(fn, net);
    if (st != ALEXNET_OK || net->grads != NULL)
        return st;
    net->grads = memory_alloc_floats(net->param_floats);
    if (net->grads == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate the gradients of %zu parameters (%.1f MiB) for "
                         "training",
                         fn, net->param_floats, (double)net->param_floats * 4.0 / 1048576.0);
    for (int i = 0; i < net->num_params; i++)
        bind_param(&net->params[i], net->params[i].value.data, net->grads + net->params[i].offset);
    return ALEXNET_OK;
}

/* Paper, section 5: biases 1 (config.init_bias) in conv2, conv4, conv5 and the hidden FC layers,
 * so that their ReLUs start with positive inputs. */
static bool takes_init_bias(const char *layer_name)
{
    static const char *const ones[] = {"conv2", "conv4", "conv5", "fc6", "fc7"};
    for (size_t i = 0; i < sizeof ones / sizeof ones[0]; i++)
        if (strcmp(layer_name, ones[i]) == 0)
            return true;
    return false;
}

typedef struct init_job {
    const alexnet_network *net;
    const network_param *param;
    uint64_t stream;
    float stddev;
} init_job;

static void init_normal_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const init_job *j = ctx;
    float *w = j->param->value.data;
    const int64_t numel = j->param->value.numel;
    for (int64_t q = begin; q < end; q++) {
        float z[4];
        rng_normal4(j->net->seed, j->stream, (uint64_t)q, z);
        for (int r = 0; r < 4 && q * 4 + r < numel; r++)
            w[q * 4 + r] = z[r] * j->stddev;
    }
}

void network_init_params(alexnet_network *net)
{
    const int parts = parallel_parts();
    for (int i = 0; i < net->num_params; i++) {
        network_param *p = &net->params[i];
        const layer *l = p->owner;
        if (p->is_bias) {
            float v = net->config.init == ALEXNET_INIT_PAPER && takes_init_bias(l->name)
                          ? net->config.init_bias
                          : 0.0f;
            for (int64_t k = 0; k < p->value.numel; k++)
                p->value.data[k] = v;
            continue;
        }
        float stddev = 0.01f;
        if (net->config.init == ALEXNET_INIT_HE) {
            double fan_in = (double)p->value.numel / (double)p->value.shape[0];
            stddev = (float)sqrt(2.0 / fan_in);
        }
        init_job j = {net, p, RNG_STREAM(RNG_STREAM_INIT, (uint64_t)i), stddev};
        parallel_run(parts, (p->value.numel + 3) / 4, init_normal_range, &j);
    }
}

alexnet_status alexnet_network_create(alexnet_network **out, const alexnet_config *cfg,
                                      uint64_t seed)
{
    return network_new("alexnet_network_create", out, cfg, seed, true);
}

alexnet_status network_describe(const char *fn, alexnet_network **out, const alexnet_config *cfg,
                                uint64_t seed)
{
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    alexnet_config full;
    alexnet_status st = network_config_resolve(fn, cfg, &full);
    if (st != ALEXNET_OK)
        return st;
    alexnet_network *net = calloc(1, sizeof *net);
    if (net == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate the network", fn);
    net->config = full;
    net->seed = seed;
    if ((st = arch_build(fn, net)) != ALEXNET_OK) {
        free(net);
        return st;
    }
    net->min_input = arch_min_input(&net->config);
    describe_params(net);
    *out = net;
    return ALEXNET_OK;
}

int64_t network_param_count(const alexnet_network *net)
{
    int64_t total = 0;
    for (int i = 0; i < net->num_params; i++)
        total += net->params[i].value.numel;
    return total;
}

weights *network_blank_arena(const alexnet_network *net)
{
    weights *w = weights_alloc(net->param_floats, false);
    for (int i = 0; w != NULL && i < net->num_params; i++) {
        const network_param *p = &net->params[i];
        const size_t end = i + 1 < net->num_params ? net->params[i + 1].offset : net->param_floats;
        const size_t used = p->offset + (size_t)p->value.numel;
        memset(w->arena + used, 0, (end - used) * sizeof(float));
    }
    return w;
}

alexnet_status network_allocate(const char *fn, alexnet_network *net, bool init)
{
    weights *w = init ? weights_alloc(net->param_floats, true) : network_blank_arena(net);
    if (w == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu parameters (%.1f MiB)",
                         fn, net->param_floats, (double)net->param_floats * 4.0 / 1048576.0);
    network_set_weights(net, w, NULL);
    if (init)
        network_init_params(net);
    return ALEXNET_OK;
}

alexnet_status network_new(const char *fn, alexnet_network **out, const alexnet_config *cfg,
                           uint64_t seed, bool init)
{
    alexnet_status st = network_describe(fn, out, cfg, seed);
    if (st == ALEXNET_OK && (st = network_allocate(fn, *out, init)) != ALEXNET_OK) {
        alexnet_network_free(*out);
        *out = NULL;
    }
    return st;
}

static void free_class_names(alexnet_network *net)
{
    metadata_class_names_free(net->class_names, net->config.num_classes);
    net->class_names = NULL;
}

alexnet_status alexnet_network_set_class_names(alexnet_network *net, const char *const *names,
                                               int count)
{
    static const char fn[] = "alexnet_network_set_class_names";
    CHECK_NOT_NULL(fn, net);
    if (count == 0) {
        free_class_names(net);
        return ALEXNET_OK;
    }
    CHECK_NOT_NULL(fn, names);
    if (count != net->config.num_classes)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: %d names given for a network of %d classes", fn, count,
                         net->config.num_classes);
    char **copy = calloc((size_t)count, sizeof *copy);
    for (int i = 0; copy && i < count; i++) {
        if (names[i] == NULL) {
            for (int k = 0; k < i; k++)
                free(copy[k]);
            free(copy);
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: names[%d] is NULL", fn, i);
        }
        size_t n = strlen(names[i]) + 1;
        if ((copy[i] = malloc(n)) == NULL) {
            for (int k = 0; k < i; k++)
                free(copy[k]);
            free(copy);
            copy = NULL;
            break;
        }
        memcpy(copy[i], names[i], n);
    }
    if (copy == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    free_class_names(net);
    net->class_names = copy;
    return ALEXNET_OK;
}

const char *alexnet_network_class_name(const alexnet_network *net, int index)
{
    if (net == NULL || net->class_names == NULL || index < 0 || index >= net->config.num_classes)
        return NULL;
    return net->class_names[index];
}

void alexnet_network_free(alexnet_network *net)
{
    if (net == NULL)
        return;
    free_class_names(net);
    memory_free(net->plan.arena);
    weights_release(net->weights);
    memory_free(net->grads);
    free(net);
}

alexnet_status alexnet_network_get_config(const alexnet_network *net, alexnet_config *cfg)
{
    static const char fn[] = "alexnet_network_get_config";
    CHECK_NOT_NULL(fn, net);
    return config_copy_out(fn, "alexnet_config", cfg, &net->config, sizeof net->config,
                           CONFIG_MIN_SIZE);
}

network_param *network_find_param(alexnet_network *net, const char *name)
{
    for (int i = 0; i < net->num_params; i++)
        if (strcmp(net->params[i].name, name) == 0 || strcmp(net->params[i].torch_name, name) == 0)
            return &net->params[i];
    return NULL;
}

alexnet_status alexnet_network_param(alexnet_network *net, const char *name, alexnet_tensor **value,
                                     alexnet_tensor **grad)
{
    static const char fn[] = "alexnet_network_param";
    if (value)
        *value = NULL;
    if (grad)
        *grad = NULL;
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, name);
    network_param *p = network_find_param(net, name);
    if (p == NULL)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: no parameter is named '%s'; names are conv1.weight ... fc8.bias, or "
                         "torchvision's features.0.weight ... classifier.6.bias",
                         fn, name);
    alexnet_status st = grad ? network_prepare_training(fn, net) : ALEXNET_OK;
    if (st != ALEXNET_OK)
        return st;
    if (value)
        *value = &p->value;
    if (grad)
        *grad = &p->grad;
    return ALEXNET_OK;
}

alexnet_status alexnet_network_param_buffers(alexnet_network *net, alexnet_tensor **values,
                                             alexnet_tensor **grads)
{
    static const char fn[] = "alexnet_network_param_buffers";
    if (values)
        *values = NULL;
    if (grads)
        *grads = NULL;
    CHECK_NOT_NULL(fn, net);
    if (values && net->weights->arena == NULL)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: the weights are mapped from their file, where they do not lie in "
                         "one buffer; load the file with alexnet_network_load for that",
                         fn);
    alexnet_status st = grads ? network_prepare_training(fn, net) : ALEXNET_OK;
    if (st != ALEXNET_OK)
        return st;
    const int64_t count = (int64_t)net->param_floats;
    if (values) {
        tensor_view_init(&net->flat_values, 1, &count, net->weights->arena);
        *values = &net->flat_values;
    }
    if (grads) {
        tensor_view_init(&net->flat_grads, 1, &count, net->grads);
        *grads = &net->flat_grads;
    }
    return ALEXNET_OK;
}

alexnet_status alexnet_network_set_first_sample(alexnet_network *net, int64_t first_sample)
{
    static const char fn[] = "alexnet_network_set_first_sample";
    CHECK_NOT_NULL(fn, net);
    if (first_sample < 0 || first_sample > ALEXNET_MAX_FIRST_SAMPLE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: first_sample %lld is outside 0..%d",
                         fn, (long long)first_sample, ALEXNET_MAX_FIRST_SAMPLE);
    net->first_sample = first_sample;
    return ALEXNET_OK;
}

int alexnet_network_param_count(const alexnet_network *net)
{
    return net == NULL ? 0 : net->num_params;
}

const char *alexnet_network_param_name(const alexnet_network *net, int index)
{
    if (net == NULL || index < 0 || index >= net->num_params)
        return NULL;
    return net->params[index].name;
}
