/* SGD with momentum and weight decay, the paper's update rule (section 5):
 *     v <- momentum * v - weight_decay * lr * w - lr * grad;   w <- w + v
 * over the whole parameter arena at once, and the learning-rate schedules a host drives per epoch.
 * An update is first computed without writing, so that a non-finite result changes nothing. */
#include "optimizer.h"

#include "config_struct.h"
#include "error.h"
#include "memory.h"
#include "network.h"
#include "parallel.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Every field of these structs as of 1.0 is required. */
#define SGD_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_sgd_config, weight_decay)
#define SCHEDULE_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_schedule_config, min_learning_rate)

alexnet_status alexnet_sgd_config_init(alexnet_sgd_config *cfg)
{
    CHECK_NOT_NULL("alexnet_sgd_config_init", cfg);
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->learning_rate = 0.01f;
    cfg->momentum = 0.9f;
    cfg->weight_decay = 0.0005f;
    return ALEXNET_OK;
}

static bool valid_learning_rate(float lr)
{
    return isfinite(lr) && lr > 0.0f;
}

alexnet_status optimizer_sgd_resolve(const char *fn, const alexnet_sgd_config *cfg,
                                     alexnet_sgd_config *full)
{
    alexnet_sgd_config_init(full);
    alexnet_status st =
        config_copy_in(fn, "alexnet_sgd_config", full, sizeof *full, cfg, SGD_MIN_SIZE);
    if (st != ALEXNET_OK)
        return st;
    if (!valid_learning_rate(full->learning_rate))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: learning_rate is %g; it must be finite and > 0", fn,
                         (double)full->learning_rate);
    if (!(full->momentum >= 0.0f && full->momentum < 1.0f))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: momentum is %g; it must be in [0, 1)",
                         fn, (double)full->momentum);
    if (!(full->weight_decay >= 0.0f && isfinite(full->weight_decay)))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: weight_decay is %g; it must be finite and >= 0", fn,
                         (double)full->weight_decay);
    return ALEXNET_OK;
}

alexnet_status alexnet_schedule_config_init(alexnet_schedule_config *cfg,
                                            alexnet_schedule_kind kind)
{
    CHECK_NOT_NULL("alexnet_schedule_config_init", cfg);
    if (kind < ALEXNET_SCHEDULE_CONSTANT || kind > ALEXNET_SCHEDULE_PLATEAU)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "alexnet_schedule_config_init: schedule kind %d is unknown; use "
                         "ALEXNET_SCHEDULE_CONSTANT, ALEXNET_SCHEDULE_STEP or "
                         "ALEXNET_SCHEDULE_PLATEAU",
                         (int)kind);
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->kind = kind;
    cfg->factor = 0.1f;
    cfg->step_epochs = 30;
    cfg->patience = 1;
    cfg->threshold = 1e-4f;
    cfg->min_learning_rate = 1e-6f;
    return ALEXNET_OK;
}

alexnet_status optimizer_schedule_resolve(const char *fn, const alexnet_schedule_config *cfg,
                                          alexnet_schedule_config *full)
{
    alexnet_schedule_config_init(full, ALEXNET_SCHEDULE_CONSTANT);
    alexnet_status st =
        config_copy_in(fn, "alexnet_schedule_config", full, sizeof *full, cfg, SCHEDULE_MIN_SIZE);
    if (st != ALEXNET_OK)
        return st;
    if (full->kind < ALEXNET_SCHEDULE_CONSTANT || full->kind > ALEXNET_SCHEDULE_PLATEAU)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: schedule kind %d is unknown; use ALEXNET_SCHEDULE_CONSTANT, "
                         "ALEXNET_SCHEDULE_STEP or ALEXNET_SCHEDULE_PLATEAU",
                         fn, (int)full->kind);
    if (!(full->factor > 0.0f && full->factor < 1.0f))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: factor is %g; it must be in (0, 1)", fn,
                         (double)full->factor);
    if (full->step_epochs < 1 || full->patience < 1)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: step_epochs (%d) and patience (%d) must be >= 1", fn,
                         full->step_epochs, full->patience);
    if (!(full->threshold >= 0.0f && full->threshold < 1.0f) ||
        !(full->min_learning_rate >= 0.0f && isfinite(full->min_learning_rate)))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: threshold must be in [0, 1) and min_learning_rate finite and >= 0",
                         fn);
    return ALEXNET_OK;
}

alexnet_status alexnet_optimizer_create(alexnet_optimizer **out, alexnet_network *net,
                                        const alexnet_sgd_config *cfg)
{
    static const char fn[] = "alexnet_optimizer_create";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, net);
    alexnet_sgd_config full;
    alexnet_status st = optimizer_sgd_resolve(fn, cfg, &full);
    if (st == ALEXNET_OK)
        st = network_prepare_training(fn, net);
    if (st != ALEXNET_OK)
        return st;
    alexnet_optimizer *opt = calloc(1, sizeof *opt);
    float *momentum = memory_alloc_floats(net->param_floats);
    if (opt == NULL || momentum == NULL) {
        free(opt);
        memory_free(momentum);
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate momentum buffers for %zu parameters", fn,
                         net->param_floats);
    }
    opt->net = net;
    opt->config = full;
    opt->momentum = momentum;
    alexnet_schedule_config_init(&opt->schedule, ALEXNET_SCHEDULE_CONSTANT);
    opt->best_error = INFINITY;
    *out = opt;
    return ALEXNET_OK;
}

void alexnet_optimizer_free(alexnet_optimizer *opt)
{
    if (opt == NULL)
        return;
    memory_free(opt->momentum);
    free(opt);
}

typedef struct sgd_job {
    float *w, *v;
    const float *g;
    float lr, momentum, decay;
    bool write;
    bool nonfinite[PARALLEL_MAX_PARTS];
} sgd_job;

static void sgd_range(void *ctx, int64_t begin, int64_t end, int part)
{
    sgd_job *j = ctx;
    bool bad = false;
    for (int64_t i = begin; i < end; i++) {
        float v = j->momentum * j->v[i] - j->decay * j->lr * j->w[i] - j->lr * j->g[i];
        float w = j->w[i] + v;
        if (j->write) {
            j->v[i] = v;
            j->w[i] = w;
        } else {
            bad |= !isfinite(v) || !isfinite(w);
        }
    }
    j->nonfinite[part] = bad;
}

/* The step counter is an int64_t; a checkpoint may bring it to its end, where counting on would
 * overflow. */
static alexnet_status check_counter(const char *fn, const char *what, int64_t count)
{
    if (count == INT64_MAX)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: the optimizer has counted %lld %s, the most it can; start a new "
                         "optimizer (alexnet_optimizer_create) to go on",
                         fn, (long long)count, what);
    return ALEXNET_OK;
}

alexnet_status alexnet_optimizer_step(alexnet_optimizer *opt)
{
    static const char fn[] = "alexnet_optimizer_step";
    CHECK_NOT_NULL(fn, opt);
    alexnet_status st = check_counter(fn, "steps", opt->steps);
    if (st == ALEXNET_OK)
        st = network_check_writable(fn, opt->net);
    if (st != ALEXNET_OK)
        return st;
    alexnet_network *net = opt->net;
    sgd_job j;
    memset(&j, 0, sizeof j);
    j.w = network_values(net);
    j.v = opt->momentum;
    j.g = net->grads;
    j.lr = opt->config.learning_rate;
    j.momentum = opt->config.momentum;
    j.decay = opt->config.weight_decay;
    const int parts = parallel_parts();
    parallel_run(parts, (int64_t)net->param_floats, sgd_range, &j);
    for (int p = 0; p < parts; p++)
        if (j.nonfinite[p])
            return error_set(ALEXNET_ERR_NUMERIC,
                             "%s: the update would make weights non-finite (NaN or infinite "
                             "gradients or weights, or a learning rate too large); nothing was "
                             "changed",
                             fn);
    j.write = true;
    parallel_run(parts, (int64_t)net->param_floats, sgd_range, &j);
    opt->steps++;
    return ALEXNET_OK;
}

alexnet_status alexnet_optimizer_set_learning_rate(alexnet_optimizer *opt, float lr)
{
    static const char fn[] = "alexnet_optimizer_set_learning_rate";
    CHECK_NOT_NULL(fn, opt);
    if (!valid_learning_rate(lr))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the learning rate %g is not finite and > 0", fn, (double)lr);
    opt->config.learning_rate = lr;
    return ALEXNET_OK;
}

alexnet_status alexnet_optimizer_get_config(const alexnet_optimizer *opt, alexnet_sgd_config *cfg)
{
    static const char fn[] = "alexnet_optimizer_get_config";
    CHECK_NOT_NULL(fn, opt);
    return config_copy_out(fn, "alexnet_sgd_config", cfg, &opt->config, sizeof opt->config,
                           SGD_MIN_SIZE);
}

float alexnet_optimizer_learning_rate(const alexnet_optimizer *opt)
{
    return opt == NULL ? 0.0f : opt->config.learning_rate;
}

int64_t alexnet_optimizer_steps(const alexnet_optimizer *opt)
{
    return opt == NULL ? 0 : opt->steps;
}

int64_t alexnet_optimizer_epochs(const alexnet_optimizer *opt)
{
    return opt == NULL ? 0 : opt->epochs;
}

alexnet_status alexnet_optimizer_set_schedule(alexnet_optimizer *opt,
                                              const alexnet_schedule_config *cfg)
{
    static const char fn[] = "alexnet_optimizer_set_schedule";
    CHECK_NOT_NULL(fn, opt);
    alexnet_schedule_config full;
    alexnet_status st = optimizer_schedule_resolve(fn, cfg, &full);
    if (st != ALEXNET_OK)
        return st;
    opt->schedule = full;
    opt->best_error = INFINITY;
    opt->bad_epochs = 0;
    return ALEXNET_OK;
}

alexnet_status alexnet_optimizer_end_epoch(alexnet_optimizer *opt, float validation_error,
                                           int *changed)
{
    static const char fn[] = "alexnet_optimizer_end_epoch";
    if (changed)
        *changed = 0;
    CHECK_NOT_NULL(fn, opt);
    const alexnet_schedule_config *s = &opt->schedule;
    if (s->kind == ALEXNET_SCHEDULE_PLATEAU && !isfinite(validation_error))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: the validation error %g is not finite",
                         fn, (double)validation_error);
    alexnet_status st = check_counter(fn, "epochs", opt->epochs);
    if (st != ALEXNET_OK)
        return st;
    opt->epochs++;
    bool decay = false;
    if (s->kind == ALEXNET_SCHEDULE_STEP) {
        decay = opt->epochs % s->step_epochs == 0;
    } else if (s->kind == ALEXNET_SCHEDULE_PLATEAU) {
        if (validation_error < opt->best_error * (1.0f - s->threshold)) {
            opt->best_error = validation_error;
            opt->bad_epochs = 0;
        } else if (++opt->bad_epochs >= s->patience) {
            decay = true;
            opt->bad_epochs = 0;
        }
    }
    if (decay) {
        float lr = opt->config.learning_rate * s->factor;
        lr = lr < s->min_learning_rate ? s->min_learning_rate : lr;
        if (lr > 0.0f && lr != opt->config.learning_rate) {
            opt->config.learning_rate = lr;
            if (changed)
                *changed = 1;
        }
    }
    return ALEXNET_OK;
}

alexnet_status alexnet_train_step(alexnet_network *net, alexnet_optimizer *opt,
                                  const alexnet_tensor *input, const int32_t *labels, float *loss)
{
    static const char fn[] = "alexnet_train_step";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, opt);
    if (opt->net != net)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the optimizer was created for another network", fn);
    /* Everything is checked before the forward pass, which advances the dropout draws. */
    alexnet_status st = network_check_input(fn, net, input);
    if (st == ALEXNET_OK)
        st = check_counter(fn, "steps", opt->steps);
    if (st == ALEXNET_OK)
        st = network_check_labels(fn, net, labels, input->shape[0]);
    if (st == ALEXNET_OK)
        st = network_forward(fn, net, input, NULL, PASS_TRAINING_BORROW);
    if (st == ALEXNET_OK)
        st = network_backward(fn, net, labels, loss);
    net->backward_ready = false; /* the borrowed input is the caller's again */
    if (st == ALEXNET_OK)
        st = alexnet_optimizer_step(opt);
    return st;
}
