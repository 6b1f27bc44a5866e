/* The JSON metadata of model files: the network's configuration ("alexnet.config"), the optimizer
 * state of checkpoints ("alexnet.optimizer"), class names ("alexnet.classes") and the decimal
 * counters ("alexnet.seed", "alexnet.step").
 *
 * Each reader takes untrusted text and either fills its output completely or fails with
 * ALEXNET_ERR_FORMAT naming the field: every number is read at its full width and range-checked
 * before it is narrowed, so no value is ever silently reinterpreted. Nothing here allocates more
 * than the text's own size, which makes these functions a fuzz target of their own. */
#ifndef ALEXNET_METADATA_H
#define ALEXNET_METADATA_H

#include "alexnet/alexnet.h"

#include <stdbool.h>
#include <stdint.h>

/* The configuration as compact JSON (release with free), or NULL when memory ran out. */
char *metadata_config_to_json(const alexnet_config *cfg);

/* Reads and validates a configuration (the same rules as alexnet_network_create). `fn` and
 * `path` go into messages. */
alexnet_status metadata_config_from_json(const char *fn, const char *path, const char *text,
                                         alexnet_config *cfg);

/* An optimizer's state without its momentum buffers. */
typedef struct optimizer_state {
    alexnet_sgd_config sgd;
    alexnet_schedule_config schedule;
    int64_t steps, epochs;
    float best_error; /* INFINITY: none yet */
    int bad_epochs;
} optimizer_state;

char *metadata_optimizer_to_json(const alexnet_optimizer *opt);

/* Reads and validates an optimizer state (the rules of alexnet_optimizer_create and
 * alexnet_optimizer_set_schedule, and bad_epochs below patience). */
alexnet_status metadata_optimizer_from_json(const char *fn, const char *path, const char *text,
                                            optimizer_state *out);

/* The network's class names as a JSON array (release with free); NULL when memory ran out. */
char *metadata_class_names_to_json(const alexnet_network *net);

/* Reads a JSON array of exactly `count` strings into *names (count strings and the array, each
 * released with free; metadata_class_names_free does both). */
alexnet_status metadata_class_names_from_json(const char *fn, const char *path, const char *text,
                                              int count, char ***names);
void metadata_class_names_free(char **names, int count);

/* How the network's images are prepared ("alexnet.preprocessing"), as JSON (release with free);
 * NULL when memory ran out. */
char *metadata_preprocessing_to_json(const alexnet_preprocessing *p);

/* Reads and validates a preprocessing record (the rules of alexnet_network_set_preprocessing for
 * a network of `channels` input channels). */
alexnet_status metadata_preprocessing_from_json(const char *fn, const char *path, const char *text,
                                                int channels, alexnet_preprocessing *p);

/* A decimal counter of 1 to 20 digits that fits in 64 bits; false for anything else. */
bool metadata_parse_u64(const char *text, uint64_t *value);

#endif
