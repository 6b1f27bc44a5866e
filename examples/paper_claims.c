/* Re-measures the AlexNet paper's claims about its design choices (sections 3-5) by training
 * ALEXNET_ARCH_MINI on Fashion-MNIST with one choice switched at a time, several seeds per arm:
 *
 *   1  ReLU reaches a given training error several times faster than tanh (Figure 1)
 *   2  dropout reduces overfitting               5  overlapping pooling lowers the error
 *   3  data augmentation reduces overfitting     6  weight decay lowers the training error
 *   4  local response normalisation lowers the error
 *   7  starting some biases at 1 accelerates the early stages of learning
 *
 *   paper_claims [--data DIR] [--out DIR] [--claims 1,2,...] [--seeds N] [--threads N] [--quick]
 *
 * Every run is fixed by its recipe, budget, seed and thread count: on one machine the tables
 * reproduce to the bit. (Another thread count sums the weight gradients in another order, and
 * training amplifies the rounding: the figures then move within the seeds' spread.) Into the
 * output folder go:
 *   runs.csv           one row per run (a rerun skips the runs already there: a long job can be
 *                      stopped and resumed, or extended with more --claims or --seeds)
 *   curves/KEY.csv     training loss and error every 25 steps (over the last 50 batches), and
 *                      test error at the evaluation points
 *   claims.md          per claim, mean, spread and paired difference of every measure per arm
 *   plots.csv          which curves make which figure
 * examples/plot_claims.py OUT then draws OUT/claimN-IMAGESxEPOCHS.png from the curves.
 *
 * --quick runs every claim on a tiny budget (one seed, a thousand images): the test suite's check
 * that the program works, not a measurement. docs/PAPER_CLAIMS.md has the full runs' figures.
 */
#include "paper_claims.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Weights start as He et al.'s, except in claim 7's first experiment: with the paper's N(0, 0.01)
 * MINI does not learn in these budgets (the paper's own run took six days). He's biases are 0. */
#define RELU ALEXNET_ACTIVATION_RELU
#define TANH ALEXNET_ACTIVATION_TANH
#define HE ALEXNET_INIT_HE
#define PAPER ALEXNET_INIT_PAPER
/* clang-format off */
static const recipe RECIPES[] = {
    /* key                label                                act  lrn pool init bias drop  wd     lr   aug */
    {"paper",             "all of the paper's choices",        RELU, 1, 3, HE,    0, 0.5f, 5e-4f, 0.05f, 1},
    {"no-dropout",        "no dropout",                        RELU, 1, 3, HE,    0, 0.0f, 5e-4f, 0.05f, 1},
    {"no-augmentation",   "no augmentation",                   RELU, 1, 3, HE,    0, 0.5f, 5e-4f, 0.05f, 0},
    {"no-lrn",            "no LRN",                            RELU, 0, 3, HE,    0, 0.5f, 5e-4f, 0.05f, 1},
    {"pool-2",            "pooling 2/2 (adjacent)",            RELU, 1, 2, HE,    0, 0.5f, 5e-4f, 0.05f, 1},
    {"no-weight-decay",   "no weight decay",                   RELU, 1, 3, HE,    0, 0.5f, 0.0f,  0.05f, 1},
    /* Figure 1: no regularisation of any kind, each activation at its best learning rate */
    {"relu-lr0.01",       "ReLU, lr 0.01",                     RELU, 1, 3, HE,    0, 0.0f, 0.0f,  0.01f, 0},
    {"relu-lr0.03",       "ReLU, lr 0.03",                     RELU, 1, 3, HE,    0, 0.0f, 0.0f,  0.03f, 0},
    {"relu-lr0.1",        "ReLU, lr 0.1",                      RELU, 1, 3, HE,    0, 0.0f, 0.0f,  0.1f,  0},
    {"tanh-lr0.01",       "tanh, lr 0.01",                     TANH, 1, 3, HE,    0, 0.0f, 0.0f,  0.01f, 0},
    {"tanh-lr0.03",       "tanh, lr 0.03",                     TANH, 1, 3, HE,    0, 0.0f, 0.0f,  0.03f, 0},
    {"tanh-lr0.1",        "tanh, lr 0.1",                      TANH, 1, 3, HE,    0, 0.0f, 0.0f,  0.1f,  0},
    /* section 5's init: weights N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6 and fc7, or 0 */
    {"paper-init-bias1",  "paper's init, biases 1",            RELU, 1, 3, PAPER, 1, 0.5f, 5e-4f, 0.05f, 1},
    {"paper-init-bias0",  "paper's init, biases 0",            RELU, 1, 3, PAPER, 0, 0.5f, 5e-4f, 0.05f, 1},
    /* the same biases on He's weights, which learn, at the paper's learning rate and at ours */
    {"he-bias1-lr0.01",   "He's init, biases 1, lr 0.01",      RELU, 1, 3, HE,    1, 0.5f, 5e-4f, 0.01f, 1},
    {"he-bias0-lr0.01",   "He's init, biases 0, lr 0.01",      RELU, 1, 3, HE,    0, 0.5f, 5e-4f, 0.01f, 1},
    {"he-bias1-lr0.05",   "He's init, biases 1, lr 0.05",      RELU, 1, 3, HE,    1, 0.5f, 5e-4f, 0.05f, 1},
    {"he-bias0-lr0.05",   "He's init, biases 0, lr 0.05",      RELU, 1, 3, HE,    0, 0.5f, 5e-4f, 0.05f, 1},
};
/* clang-format on */

/* What a claim is judged on; each table shows them all, the first named in the heading. */

/* clang-format off */
const experiment EXPERIMENTS[] = {
    {1, "ReLU reaches a training error six times faster than tanh", 60000, 1, 0, STEPS_TO, 0.15f,
     {"relu-lr0.01", "relu-lr0.03", "relu-lr0.1", "tanh-lr0.01", "tanh-lr0.03", "tanh-lr0.1"}},
    {2, "Dropout reduces overfitting", 60000, 3, 0, GAP, 0, {"paper", "no-dropout"}},
    {2, "Dropout reduces overfitting", 5000, 30, 0, GAP, 0, {"paper", "no-dropout"}},
    {3, "Data augmentation reduces overfitting", 60000, 3, 0, GAP, 0, {"paper", "no-augmentation"}},
    {3, "Data augmentation reduces overfitting", 5000, 30, 0, GAP, 0, {"paper", "no-augmentation"}},
    {4, "Local response normalisation lowers the error", 60000, 3, 0, TEST_ERROR, 0,
     {"paper", "no-lrn"}},
    {5, "Overlapping pooling lowers the error", 60000, 3, 0, TEST_ERROR, 0, {"paper", "pool-2"}},
    {5, "Overlapping pooling makes overfitting slightly harder", 5000, 30, 0, GAP, 0,
     {"paper", "pool-2"}},
    {6, "Weight decay lowers the training error", 60000, 3, 0, TRAIN_ERROR, 0,
     {"paper", "no-weight-decay"}},
    {7, "Biases of 1 accelerate the early stages of learning", 60000, 4, 2, STEPS_TO, 0.5f,
     {"paper-init-bias1", "paper-init-bias0"}},
    {7, "Biases of 1 accelerate the early stages of learning", 60000, 1, 0, STEPS_TO, 0.3f,
     {"he-bias1-lr0.01", "he-bias0-lr0.01", "he-bias1-lr0.05", "he-bias0-lr0.05"}},
};
/* clang-format on */
const int NUM_EXPERIMENTS = sizeof EXPERIMENTS / sizeof EXPERIMENTS[0];

const recipe *find_recipe(const char *key)
{
    for (size_t i = 0; i < sizeof RECIPES / sizeof RECIPES[0]; i++)
        if (strcmp(RECIPES[i].key, key) == 0)
            return &RECIPES[i];
    return NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "paper_claims: %s: %s\n", what, alexnet_last_error());
    return 1;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The budget --quick shrinks every experiment to. */
void budget(const options *o, const experiment *e, int *images, int *epochs)
{
    *images = o->quick ? (e->train_images < 60000 ? 640 : 1280) : e->train_images;
    *epochs = o->quick ? (e->epochs > 2 ? 2 : e->epochs) : e->epochs;
}

int seeds_of(const options *o, const experiment *e)
{
    return e->max_seeds && e->max_seeds < o->seeds ? e->max_seeds : o->seeds;
}

void run_key(char *buf, size_t size, int images, int epochs, const char *recipe_key, int seed)
{
    snprintf(buf, size, "%dx%d-%s-seed%d", images, epochs, recipe_key, seed);
}

/* ---- data ---------------------------------------------------------------------------------- */

static void put_be32(FILE *f, uint32_t v)
{
    const unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* The first `count` images of a split as IDX files in OUT/SPLIT-COUNT, for a loader: a fixed
 * subset, reshuffled every epoch like the full set. */
static alexnet_status open_subset(const options *o, const alexnet_dataset *ds, const char *split,
                                  int count, alexnet_dataset **subset)
{
    char dir[1024], images[1100], labels[1100];
    snprintf(dir, sizeof dir, "%s/%s-%d", o->out, split, count);
    snprintf(images, sizeof images, "%s/images-idx3-ubyte", dir);
    snprintf(labels, sizeof labels, "%s/labels-idx1-ubyte", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return alexnet_set_last_error(ALEXNET_ERR_IO, "cannot create the subset folder");
    FILE *fi = fopen(images, "wb"), *fl = fopen(labels, "wb");
    alexnet_status st = fi && fl ? ALEXNET_OK : ALEXNET_ERR_IO;
    if (st == ALEXNET_OK) {
        put_be32(fi, 0x803);
        put_be32(fi, (uint32_t)count);
        put_be32(fi, 28);
        put_be32(fi, 28);
        put_be32(fl, 0x801);
        put_be32(fl, (uint32_t)count);
    }
    for (int i = 0; st == ALEXNET_OK && i < count; i++) {
        alexnet_tensor *image = NULL;
        int32_t label;
        if ((st = alexnet_dataset_get(ds, i, &image, &label)) != ALEXNET_OK)
            break;
        const float *p = alexnet_tensor_data(image);
        for (int k = 0; k < 28 * 28; k++)
            fputc((int)lrintf(p[k] * 255.0f), fi);
        fputc(label, fl);
        alexnet_tensor_free(image);
    }
    if ((fi && fclose(fi) != 0) || (fl && fclose(fl) != 0) || st == ALEXNET_ERR_IO)
        return alexnet_set_last_error(ALEXNET_ERR_IO, "cannot write the subset's IDX files");
    return st == ALEXNET_OK ? alexnet_dataset_open_idx(subset, images, labels) : st;
}

/* Error and mean loss over a loader's epoch, in inference mode. */
static alexnet_status evaluate(alexnet_network *net, alexnet_loader *loader, double *error,
                               double *loss)
{
    alexnet_tensor *images = NULL, *logits = NULL;
    const int32_t *labels = NULL;
    int64_t wrong = 0, seen = 0;
    double total = 0.0;
    alexnet_status st = alexnet_loader_start_epoch(loader, 0);
    while (st == ALEXNET_OK && (st = alexnet_loader_next(loader, &images, &labels)) == ALEXNET_OK &&
           images != NULL) {
        const int64_t n = alexnet_tensor_dim(images, 0), shape[2] = {n, 10};
        if ((st = alexnet_tensor_create(&logits, 2, shape)) != ALEXNET_OK ||
            (st = alexnet_network_forward(net, images, logits, 0)) != ALEXNET_OK)
            break;
        total += fashion_mnist_score(alexnet_tensor_data(logits), labels, n, &wrong);
        seen += n;
        alexnet_tensor_free(logits);
        logits = NULL;
    }
    alexnet_tensor_free(logits);
    *error = seen ? (double)wrong / (double)seen : 1.0;
    *loss = seen ? total / (double)seen : 0.0;
    return st;
}

/* ---- one run ------------------------------------------------------------------------------- */

typedef struct run_data {
    alexnet_dataset *train, *test;
} run_data;

static alexnet_loader *make_loader(const alexnet_dataset *ds, int batch, int shuffle, int augment,
                                   uint64_t seed)
{
    alexnet_loader_config lc;
    alexnet_loader_config_init(&lc, 1, 28, 28);
    lc.batch_size = batch;
    lc.shuffle = shuffle;
    lc.seed = seed;
    lc.mean[0] = FASHION_MNIST_MEAN;
    lc.std[0] = FASHION_MNIST_STD;
    lc.random_crop = lc.flip = augment;
    lc.pad = augment ? 2 : 0;
    alexnet_loader *ld = NULL;
    return alexnet_loader_create(&ld, ds, &lc) == ALEXNET_OK ? ld : NULL;
}

/* The library starts biases at config.init_bias only under ALEXNET_INIT_PAPER; on He's weights the
 * recipe sets the same layers' biases through the parameter views. */
static alexnet_status set_paper_biases(alexnet_network *net, float value)
{
    static const char *const layers[] = {"conv2.bias", "conv4.bias", "conv5.bias", "fc6.bias",
                                         "fc7.bias"};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        alexnet_tensor *bias = NULL;
        alexnet_status st = alexnet_network_param(net, layers[i], &bias, NULL);
        if (st != ALEXNET_OK)
            return st;
        float *b = alexnet_tensor_data(bias);
        for (int64_t k = 0; k < alexnet_tensor_numel(bias); k++)
            b[k] = value;
    }
    return ALEXNET_OK;
}

/* Trains one arm with one seed; writes its curve file and fills *r. A diverged run (a loss that
 * is not finite) is a result, not a failure. */
static alexnet_status train_run(const run_data *d, const recipe *rc, int epochs, int seed,
                                const char *curve_path, run_result *r)
{
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    cfg.activation = rc->activation;
    cfg.lrn = rc->lrn;
    cfg.pool_size = rc->pool_size;
    cfg.init = rc->init;
    cfg.init_bias = rc->init_bias;
    cfg.dropout = rc->dropout;
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    sgd.learning_rate = rc->lr;
    sgd.weight_decay = rc->weight_decay;
    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    alexnet_tensor *logits = NULL;
    alexnet_loader *train = make_loader(d->train, BATCH, 1, rc->augment, (uint64_t)seed);
    alexnet_loader *plain = make_loader(d->train, 500, 0, 0, 0);
    alexnet_loader *test = make_loader(d->test, 500, 0, 0, 0);
    FILE *curve = fopen(curve_path, "w");
    const int64_t shape[2] = {BATCH, 10};
    alexnet_status st = train && plain && test ? ALEXNET_OK : ALEXNET_ERR_INVALID_ARGUMENT;
    if (st == ALEXNET_OK && curve == NULL)
        st = alexnet_set_last_error(ALEXNET_ERR_IO, "cannot write the curve file");
    if (st == ALEXNET_OK &&
        (st = alexnet_network_create(&net, &cfg, (uint64_t)seed)) == ALEXNET_OK &&
        (rc->init != ALEXNET_INIT_HE || rc->init_bias == 0.0f ||
         (st = set_paper_biases(net, rc->init_bias)) == ALEXNET_OK) &&
        (st = alexnet_optimizer_create(&opt, net, &sgd)) == ALEXNET_OK &&
        (st = alexnet_tensor_create(&logits, 2, shape)) == ALEXNET_OK)
        fprintf(curve, "step,epoch,train_loss,train_error,test_error\n");
    const int64_t batches = train ? alexnet_loader_batches(train) : 0;
    const int64_t total_steps = batches * epochs;
    const int eval_every = epochs > 10 ? epochs / 10 : 1;
    float window_loss[ERROR_WINDOW] = {0}, window_error[ERROR_WINDOW] = {0};
    const double start = now();
    memset(r, 0, sizeof *r);
    r->test_error = r->train_error = r->train_loss = NAN;
    for (int epoch = 0; st == ALEXNET_OK && !r->diverged && epoch < epochs; epoch++) {
        if ((st = alexnet_loader_start_epoch(train, epoch)) != ALEXNET_OK)
            break;
        alexnet_tensor *images = NULL;
        const int32_t *labels = NULL;
        while ((st = alexnet_loader_next(train, &images, &labels)) == ALEXNET_OK && images) {
            const int64_t step = alexnet_optimizer_steps(opt), n = alexnet_tensor_dim(images, 0);
            /* warm-up, then a cosine down to 0 over the run, as the main job */
            double lr = rc->lr * 0.5 * (1.0 + cos(3.141592653589793 * step / total_steps));
            if (step < WARMUP)
                lr *= (double)(step + 1) / WARMUP;
            float loss;
            int64_t wrong = 0;
            if (n != BATCH)
                continue; /* the last partial batch: a constant batch keeps steps comparable */
            if ((st = alexnet_optimizer_set_learning_rate(opt, (float)lr)) ||
                (st = alexnet_network_forward(net, images, logits, 1)))
                break;
            st = alexnet_network_backward(net, labels, &loss);
            if (st == ALEXNET_ERR_NUMERIC) {
                r->diverged = 1;
                st = ALEXNET_OK;
                break;
            }
            if (st != ALEXNET_OK || (st = alexnet_optimizer_step(opt)) != ALEXNET_OK)
                break;
            fashion_mnist_score(alexnet_tensor_data(logits), labels, n, &wrong);
            window_loss[step % ERROR_WINDOW] = loss;
            window_error[step % ERROR_WINDOW] = (float)wrong / (float)n;
            if ((step + 1) % LOG_EVERY == 0 && step + 1 >= ERROR_WINDOW) {
                double sum_loss = 0.0, sum_error = 0.0;
                for (int k = 0; k < ERROR_WINDOW; k++) {
                    sum_loss += window_loss[k];
                    sum_error += window_error[k];
                }
                fprintf(curve, "%lld,%d,%.5f,%.5f,\n", (long long)step + 1, epoch + 1,
                        sum_loss / ERROR_WINDOW, sum_error / ERROR_WINDOW);
            }
        }
        if (st == ALEXNET_OK && !r->diverged &&
            ((epoch + 1) % eval_every == 0 || epoch + 1 == epochs)) {
            double loss;
            if ((st = evaluate(net, test, &r->test_error, &loss)) == ALEXNET_OK)
                fprintf(curve, "%lld,%d,,,%.5f\n", (long long)alexnet_optimizer_steps(opt),
                        epoch + 1, r->test_error);
        }
    }
    r->steps = opt ? alexnet_optimizer_steps(opt) : 0;
    if (st == ALEXNET_OK && !r->diverged)
        st = evaluate(net, plain, &r->train_error, &r->train_loss);
    if (r->diverged)
        r->test_error = r->train_error = r->train_loss = NAN;
    r->seconds = now() - start;
    if (curve != NULL && fclose(curve) != 0 && st == ALEXNET_OK)
        st = alexnet_set_last_error(ALEXNET_ERR_IO, "cannot write the curve file");
    alexnet_tensor_free(logits);
    alexnet_loader_free(train);
    alexnet_loader_free(plain);
    alexnet_loader_free(test);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return st;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: paper_claims [--data DIR] [--out DIR] [--claims 1,2,...] [--seeds N]\n"
                    "                    [--threads N] [--quick]\n");
    exit(2);
}

static options parse(int argc, char **argv)
{
    options o = {.data = FASHION_MNIST_DIR, .out = "paper-claims", .seeds = 3};
    const char *claims = "1,2,3,4,5,6,7";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o.quick = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--data") == 0)
            o.data = v;
        else if (strcmp(a, "--out") == 0)
            o.out = v;
        else if (strcmp(a, "--claims") == 0)
            claims = v;
        else if (strcmp(a, "--seeds") == 0)
            o.seeds = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(v);
        else
            usage();
    }
    for (const char *c = claims; *c; c++)
        if (*c >= '1' && *c <= '7')
            o.claims[*c - '0'] = 1;
        else if (*c != ',')
            usage();
    if (o.quick)
        o.seeds = 1;
    if (o.seeds < 1 || o.seeds > MAX_SEEDS)
        usage();
    return o;
}

int main(int argc, char **argv)
{
    options o = parse(argc, argv);
    if (o.threads && alexnet_set_num_threads(o.threads) != ALEXNET_OK)
        return fail("threads");
    char curves[1100], runs_path[1100];
    snprintf(curves, sizeof curves, "%s/curves", o.out);
    snprintf(runs_path, sizeof runs_path, "%s/runs.csv", o.out);
    if ((mkdir(o.out, 0755) != 0 && errno != EEXIST) ||
        (mkdir(curves, 0755) != 0 && errno != EEXIST)) {
        fprintf(stderr, "paper_claims: cannot create '%s': %s\n", curves, strerror(errno));
        return 1;
    }
    alexnet_dataset *train = NULL, *test = NULL;
    if (fashion_mnist_open(o.data, "train", &train) != ALEXNET_OK ||
        fashion_mnist_open(o.data, "t10k", &test) != ALEXNET_OK)
        return fail("opening Fashion-MNIST (install dataset-fashion-mnist, or pass --data)");
    if (o.quick) { /* a thousand test images are enough to check that evaluation works */
        alexnet_dataset *small = NULL;
        if (open_subset(&o, test, "test", 1000, &small) != ALEXNET_OK)
            return fail("writing the test subset");
        alexnet_dataset_free(test);
        test = small;
    }
    run_table table = {0};
    read_runs(runs_path, &table);
    int done = 0, planned = 0;
    for (int pass = 0; pass < 2; pass++) { /* count first, for the progress figures */
        for (int i = 0; i < NUM_EXPERIMENTS; i++) {
            const experiment *e = &EXPERIMENTS[i];
            if (!o.claims[e->claim])
                continue;
            int images, epochs;
            budget(&o, e, &images, &epochs);
            run_data d = {train, test};
            alexnet_dataset *subset = NULL;
            for (int seed = 1; seed <= seeds_of(&o, e); seed++)
                for (int a = 0; a < MAX_ARMS && e->arms[a]; a++) {
                    char key[128], curve[1300];
                    run_key(key, sizeof key, images, epochs, e->arms[a], seed);
                    if (find_run(&table, key))
                        continue;
                    if (pass == 0) {
                        planned++;
                        /* marked as known, so that an arm two experiments share counts once */
                        run_result marked = {.steps = -1};
                        snprintf(marked.key, sizeof marked.key, "%s", key);
                        add_run(&table, &marked);
                        continue;
                    }
                    if (subset == NULL && images < alexnet_dataset_size(train)) {
                        if (open_subset(&o, train, "train", images, &subset) != ALEXNET_OK)
                            return fail("writing the training subset");
                        d.train = subset;
                    }
                    run_result r;
                    snprintf(curve, sizeof curve, "%s/%s.csv", curves, key);
                    printf("[%d/%d] claim %d: %s, seed %d, %d images x %d epochs ... ", ++done,
                           planned, e->claim, find_recipe(e->arms[a])->label, seed, images, epochs);
                    fflush(stdout);
                    if (train_run(&d, find_recipe(e->arms[a]), epochs, seed, curve, &r) !=
                        ALEXNET_OK)
                        return fail(key);
                    snprintf(r.key, sizeof r.key, "%s", key);
                    printf("%s test error %.2f%%, train error %.2f%% (%.0f s)\n",
                           r.diverged ? "diverged;" : "", 100.0 * r.test_error,
                           100.0 * r.train_error, r.seconds);
                    if (!append_run(runs_path, &r) || !add_run(&table, &r))
                        return fail("writing runs.csv");
                }
            alexnet_dataset_free(subset);
        }
        if (pass == 0)
            table.count -= planned; /* unmark them */
    }
    table.count = 0; /* the tables from runs.csv as written, whether run now or before */
    read_runs(runs_path, &table);
    if (!write_report(&o, &table)) {
        fprintf(stderr, "paper_claims: cannot write %s/claims.md\n", o.out);
        return 1;
    }
    printf("%d runs; tables in %s/claims.md (examples/plot_claims.py %s draws the curves)\n",
           table.count, o.out, o.out);
    free(table.rows);
    alexnet_dataset_free(train);
    alexnet_dataset_free(test);
    return 0;
}
