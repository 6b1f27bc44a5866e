/* What the two halves of examples/paper_claims share: the arms and experiments (paper_claims.c,
 * which trains them) and the record of runs and the tables (paper_claims_report.c). */
#ifndef ALEXNET_EXAMPLES_PAPER_CLAIMS_H
#define ALEXNET_EXAMPLES_PAPER_CLAIMS_H

#include "fashion_mnist.h"

#include <stdint.h>

enum { BATCH = 64, WARMUP = 200, LOG_EVERY = 25, ERROR_WINDOW = 50, MAX_ARMS = 6, MAX_SEEDS = 10 };

/* One arm: the paper's choices, or one of them changed. */
typedef struct recipe {
    const char *key, *label;
    alexnet_activation activation;
    int lrn, pool_size;
    alexnet_init init;
    float init_bias; /* the starting bias of conv2, conv4, conv5, fc6 and fc7 (He: 0 elsewhere) */
    float dropout, weight_decay, lr;
    int augment; /* random crops from a 2-pixel zero border, and mirroring */
} recipe;

/* What a claim is judged on; each table shows them all, the first named in the heading. */
typedef enum measure { TEST_ERROR, GAP, TRAIN_ERROR, STEPS_TO } measure;

typedef struct experiment {
    int claim;
    const char *claim_text;
    int train_images; /* the first N training images, a fixed subset; 60000: all */
    int epochs;
    int max_seeds; /* at most this many of --seeds (0: all), where the arms differ widely */
    measure primary;
    float threshold; /* for STEPS_TO: the windowed training error to reach */
    const char *arms[MAX_ARMS];
} experiment;

extern const experiment EXPERIMENTS[];
extern const int NUM_EXPERIMENTS;

typedef struct options {
    const char *data, *out;
    int seeds, threads, quick;
    int claims[8]; /* claims[c]: run claim c */
} options;

/* One run's figures, as runs.csv holds them. */
typedef struct run_result {
    char key[128];
    double test_error, train_error, train_loss, seconds;
    int64_t steps;
    int diverged;
} run_result;

typedef struct run_table {
    run_result *rows;
    int count, capacity;
} run_table;

const recipe *find_recipe(const char *key);
/* The training images and epochs of an experiment (--quick shrinks them), and its seeds. */
void budget(const options *o, const experiment *e, int *images, int *epochs);
int seeds_of(const options *o, const experiment *e);
/* The name of a run in runs.csv and of its curve file. */
void run_key(char *buf, size_t size, int images, int epochs, const char *recipe_key, int seed);

const run_result *find_run(const run_table *t, const char *key);
int add_run(run_table *t, const run_result *r);
/* Adds the rows of runs.csv, if there is one, to `t`. */
void read_runs(const char *path, run_table *t);
/* Appends one row to runs.csv (with the header first in a new file); 0 on failure. */
int append_run(const char *path, const run_result *r);
/* OUT/claims.md from the runs of the selected claims; 0 on failure. */
int write_report(const options *o, const run_table *t);

#endif
