/* The SGD optimizer's state, visible to serialization (checkpoints save and restore it). */
#ifndef ALEXNET_OPTIMIZER_H
#define ALEXNET_OPTIMIZER_H

#include "alexnet/alexnet.h"

struct alexnet_optimizer {
    alexnet_network *net;
    alexnet_sgd_config config;
    float *momentum; /* one arena laid out like the network's parameters */
    int64_t steps, epochs;
    alexnet_schedule_config schedule;
    float best_error; /* PLATEAU: best validation error so far; INFINITY before the first */
    int bad_epochs;   /* PLATEAU: epochs since it last improved */
};

/* Checks an SGD or schedule config (fields beyond struct_size take their defaults) into `full`. */
alexnet_status optimizer_sgd_resolve(const char *fn, const alexnet_sgd_config *cfg,
                                     alexnet_sgd_config *full);
alexnet_status optimizer_schedule_resolve(const char *fn, const alexnet_schedule_config *cfg,
                                          alexnet_schedule_config *full);

#endif
