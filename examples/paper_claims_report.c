/* The record of runs (runs.csv) and the tables made from it (claims.md) for
 * examples/paper_claims. */
#include "paper_claims.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- runs.csv ------------------------------------------------------------------------------ */

const run_result *find_run(const run_table *t, const char *key)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->rows[i].key, key) == 0)
            return &t->rows[i];
    return NULL;
}

int add_run(run_table *t, const run_result *r)
{
    if (t->count == t->capacity) {
        int capacity = t->capacity ? 2 * t->capacity : 64;
        run_result *rows = realloc(t->rows, (size_t)capacity * sizeof *rows);
        if (rows == NULL)
            return 0;
        t->rows = rows;
        t->capacity = capacity;
    }
    t->rows[t->count++] = *r;
    return 1;
}

static const char RUNS_HEADER[] = "key,test_error,train_error,train_loss,steps,seconds,diverged";

void read_runs(const char *path, run_table *t)
{
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        run_result r;
        long long steps;
        memset(&r, 0, sizeof r);
        if (sscanf(line, "%127[^,],%lf,%lf,%lf,%lld,%lf,%d", r.key, &r.test_error, &r.train_error,
                   &r.train_loss, &steps, &r.seconds, &r.diverged) == 7) {
            r.steps = steps;
            if (r.diverged)
                r.test_error = r.train_error = r.train_loss = NAN;
            add_run(t, &r);
        }
    }
    if (f)
        fclose(f);
}

int append_run(const char *path, const run_result *r)
{
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return 0;
    if (ftell(f) == 0)
        fprintf(f, "%s\n", RUNS_HEADER);
    fprintf(f, "%s,%.6f,%.6f,%.6f,%lld,%.1f,%d\n", r->key, r->test_error, r->train_error,
            r->train_loss, (long long)r->steps, r->seconds, r->diverged);
    return fclose(f) == 0;
}

/* ---- claims.md ----------------------------------------------------------------------------- */

/* The first logged step whose windowed training error is at most `threshold`; NAN if none. */
static double steps_to(const char *curve_path, double threshold)
{
    FILE *f = fopen(curve_path, "r");
    char line[256];
    double found = NAN;
    while (f && isnan(found) && fgets(line, sizeof line, f)) {
        long long step;
        int epoch;
        double loss, error;
        if (sscanf(line, "%lld,%d,%lf,%lf", &step, &epoch, &loss, &error) == 4 &&
            error <= threshold)
            found = (double)step;
    }
    if (f)
        fclose(f);
    return found;
}

enum { NUM_MEASURES = 6 };
static const char *const MEASURE_NAMES[NUM_MEASURES] = {
    "test error %", "train error %", "gap (test − train) %", "train loss", "steps to T", "s / run"};

/* Mean, sample standard deviation and count of the finite values (a run that diverged or never
 * reached the threshold counts in `missing`). */
typedef struct summary {
    double mean, sd;
    int n, missing;
} summary;

static summary summarise(const double *v, int count)
{
    summary s = {0, 0, 0, 0};
    for (int i = 0; i < count; i++)
        if (isfinite(v[i])) {
            s.mean += v[i];
            s.n++;
        } else {
            s.missing++;
        }
    s.mean = s.n ? s.mean / s.n : NAN;
    for (int i = 0; i < count; i++)
        if (isfinite(v[i]))
            s.sd += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = s.n > 1 ? sqrt(s.sd / (s.n - 1)) : 0.0;
    return s;
}

/* `missing` says what a non-finite value means: a run that diverged, or a threshold not
 * reached. */
static void print_summary(FILE *f, summary s, int decimals, const char *missing)
{
    if (s.n == 0) {
        fprintf(f, " %s |", s.missing ? missing : "–");
        return;
    }
    fprintf(f, " %.*f", decimals, s.mean);
    if (s.n > 1)
        fprintf(f, " ± %.*f", decimals, s.sd);
    if (s.missing)
        fprintf(f, " (%d %s)", s.missing, missing);
    fprintf(f, " |");
}

/* For arms that differ only in learning rate ("relu-lr0.01", "relu-lr0.03", ...): the fastest
 * of each kind to the threshold, among those that reached it with every seed, and how many times
 * slower the second kind's fastest is than the first's. */
static void report_fastest(FILE *f, const experiment *e,
                           double m[MAX_ARMS][NUM_MEASURES][MAX_SEEDS], int seeds)
{
    double best[2] = {NAN, NAN};
    const char *kinds[2] = {NULL, NULL};
    int best_arm[2] = {-1, -1};
    for (int a = 0; a < MAX_ARMS && e->arms[a]; a++) {
        const char *lr = strstr(e->arms[a], "-lr");
        if (lr == NULL)
            return;
        const int length = (int)(lr - e->arms[a]);
        int k = kinds[0] == NULL || strncmp(kinds[0], e->arms[a], (size_t)length) == 0 ? 0 : 1;
        kinds[k] = e->arms[a];
        const summary s = summarise(m[a][4], seeds);
        if (s.missing == 0 && s.n > 0 && !(s.mean >= best[k])) {
            best[k] = s.mean;
            best_arm[k] = a;
        }
    }
    fprintf(f, "\nFastest at its best learning rate:");
    for (int k = 0; k < 2; k++)
        if (best_arm[k] >= 0)
            fprintf(f, " %s, %.0f steps%s", find_recipe(e->arms[best_arm[k]])->label, best[k],
                    k == 0 ? ";" : "");
    if (best_arm[0] >= 0 && best_arm[1] >= 0)
        fprintf(f, ". The second takes %.2fx the steps of the first.\n", best[1] / best[0]);
    else
        fprintf(f, " (one kind never reached the threshold with every seed).\n");
}

/* measures[arm][measure][seed] of one experiment; returns the number of seeds with every arm. */
static int gather(const options *o, const run_table *t, const experiment *e,
                  double measures[MAX_ARMS][NUM_MEASURES][MAX_SEEDS])
{
    int images, epochs, seeds = 0;
    budget(o, e, &images, &epochs);
    for (int seed = 1; seed <= seeds_of(o, e); seed++) {
        int complete = 1;
        for (int a = 0; a < MAX_ARMS && e->arms[a]; a++) {
            char key[128], curve[1200];
            run_key(key, sizeof key, images, epochs, e->arms[a], seed);
            const run_result *r = find_run(t, key);
            if (r == NULL) {
                complete = 0;
                break;
            }
            snprintf(curve, sizeof curve, "%s/curves/%s.csv", o->out, key);
            double *m[NUM_MEASURES];
            for (int k = 0; k < NUM_MEASURES; k++)
                m[k] = &measures[a][k][seeds];
            *m[0] = 100.0 * r->test_error;
            *m[1] = 100.0 * r->train_error;
            *m[2] = 100.0 * (r->test_error - r->train_error);
            *m[3] = r->train_loss;
            *m[4] = e->primary == STEPS_TO && !r->diverged ? steps_to(curve, e->threshold) : NAN;
            *m[5] = r->seconds;
        }
        seeds += complete;
    }
    return seeds;
}

static void report_experiment(FILE *f, const options *o, const run_table *t, const experiment *e)
{
    static double m[MAX_ARMS][NUM_MEASURES][MAX_SEEDS];
    const int seeds = gather(o, t, e, m);
    int images, epochs;
    budget(o, e, &images, &epochs);
    const int primary = e->primary == TEST_ERROR    ? 0
                        : e->primary == TRAIN_ERROR ? 1
                        : e->primary == GAP         ? 2
                                                    : 4;
    fprintf(f,
            "\n## Claim %d: %s\n\n%d training images, %d epoch%s of batches of %d, %d seed%s; "
            "judged on %s",
            e->claim, e->claim_text, images, epochs, epochs > 1 ? "s" : "", BATCH, seeds,
            seeds > 1 ? "s" : "", MEASURE_NAMES[primary]);
    if (e->primary == STEPS_TO)
        fprintf(f, " (T = %.0f%% training error, over the last %d batches)", 100.0 * e->threshold,
                ERROR_WINDOW);
    fprintf(f, ".\n\n");
    if (seeds == 0) {
        fprintf(f, "(not run)\n");
        return;
    }
    fprintf(f, "| arm |");
    for (int k = 0; k < NUM_MEASURES; k++)
        if (k != 4 || e->primary == STEPS_TO)
            fprintf(f, " %s |", MEASURE_NAMES[k]);
    fprintf(f, "\n|---|");
    for (int k = 0; k < NUM_MEASURES; k++)
        if (k != 4 || e->primary == STEPS_TO)
            fprintf(f, "---|");
    fprintf(f, "\n");
    for (int a = 0; a < MAX_ARMS && e->arms[a]; a++) {
        fprintf(f, "| %s |", find_recipe(e->arms[a])->label);
        for (int k = 0; k < NUM_MEASURES; k++)
            if (k != 4 || e->primary == STEPS_TO)
                print_summary(f, summarise(m[a][k], seeds),
                              k == 3   ? 4
                              : k >= 4 ? 0
                                       : 2,
                              k == 4 ? "not reached" : "diverged");
        fprintf(f, "\n");
    }
    /* Paired by seed: the arms share the data order and every layer they have in common starts
     * from the same weights, so the per-seed difference is less noisy than the means'. */
    fprintf(f, "\nPaired differences in %s against \"%s\", per seed:\n\n", MEASURE_NAMES[primary],
            find_recipe(e->arms[0])->label);
    for (int a = 1; a < MAX_ARMS && e->arms[a]; a++) {
        double d[MAX_SEEDS];
        fprintf(f, "- %s:", find_recipe(e->arms[a])->label);
        for (int s = 0; s < seeds; s++) {
            d[s] = m[a][primary][s] - m[0][primary][s];
            if (isfinite(d[s]))
                fprintf(f, " %+.*f", primary == 4 ? 0 : 2, d[s]);
            else
                fprintf(f, " –");
        }
        const summary ds = summarise(d, seeds);
        if (ds.n > 1)
            fprintf(f, "; mean %+.*f ± %.*f", primary == 4 ? 0 : 2, ds.mean, primary == 4 ? 0 : 2,
                    ds.sd);
        fprintf(f, "\n");
    }
    if (e->primary == STEPS_TO)
        report_fastest(f, e, m, seeds);
}

/* OUT/plots.csv: for every run of the selected experiments, the curve file and what it shows
 * (examples/plot_claims.py draws one figure per experiment from it). */
static int write_plot_index(const options *o, const run_table *t)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/plots.csv", o->out);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fprintf(f, "figure,claim,title,arm,seed,curve\n");
    for (int i = 0; i < NUM_EXPERIMENTS; i++) {
        const experiment *e = &EXPERIMENTS[i];
        int images, epochs;
        budget(o, e, &images, &epochs);
        for (int seed = 1; o->claims[e->claim] && seed <= seeds_of(o, e); seed++)
            for (int a = 0; a < MAX_ARMS && e->arms[a]; a++) {
                char key[128];
                run_key(key, sizeof key, images, epochs, e->arms[a], seed);
                if (find_run(t, key))
                    fprintf(f,
                            "claim%d-%dx%d,%d,\"%s (%d images, %d epoch%s)\",\"%s\",%d,"
                            "curves/%s.csv\n",
                            e->claim, images, epochs, e->claim, e->claim_text, images, epochs,
                            epochs == 1 ? "" : "s", find_recipe(e->arms[a])->label, seed, key);
            }
    }
    return fclose(f) == 0;
}

int write_report(const options *o, const run_table *t)
{
    if (!write_plot_index(o, t))
        return 0;
    char path[1100];
    snprintf(path, sizeof path, "%s/claims.md", o->out);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fprintf(f,
            "# The paper's claims, re-measured on Fashion-MNIST (ALEXNET_ARCH_MINI)\n\n"
            "Written by examples/paper_claims%s. Means ± sample standard deviation over "
            "seeds; errors in percent.\n",
            o->quick ? " --quick: a tiny budget that checks the program, not the claims" : "");
    for (int i = 0; i < NUM_EXPERIMENTS; i++)
        if (o->claims[EXPERIMENTS[i].claim])
            report_experiment(f, o, t, &EXPERIMENTS[i]);
    return fclose(f) == 0;
}
