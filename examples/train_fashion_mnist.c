/* The main job: trains AlexNet (ALEXNET_ARCH_MINI by default) on Fashion-MNIST, evaluates on the
 * test set every epoch, and writes into the output folder:
 *   model.safetensors       the trained network, with class names (for examples/classify)
 *   checkpoint.safetensors  weights + optimizer state after the last epoch (--resume continues)
 *   log.csv, steps.csv      per-epoch and per-20-batch figures (examples/plot_training.py draws
 *                           them)
 *   filters.png             the first layer's filters, as the paper's Figure 3
 *
 *   train_fashion_mnist [--data DIR] [--out DIR] [--epochs N] [--batch N] [--lr X]
 *                       [--schedule cosine|step] [--warmup N] [--dropout P] [--pad N]
 *                       [--plain-epochs N] [--seed N] [--threads N] [--limit N] [--no-augment]
 *                       [--resume]
 *
 * The learning rate rises linearly over the first --warmup steps (a plain deep network without
 * normalisation diverges when it starts at a high rate). Then, by default, it follows a cosine
 * from --lr down to 0 over the run, set by this host before each step; --schedule step keeps it at
 * --lr and divides it by 10 for the last epoch (the paper's step schedule, compressed), through the
 * library's ALEXNET_SCHEDULE_STEP.
 *
 * Training images are mirrored at random and, with --pad N, cropped back to 28 pixels from a
 * border of N zeros, except in the last --plain-epochs epochs: augmentation fights overfitting in
 * long runs, while a run of a few epochs does not overfit and ends better fitted to the unshifted
 * images it is tested on. The defaults (6 epochs, mirroring only, the last epoch plain) are the
 * short run that measured best: about 92% one view in under 3 minutes on 2 cores. The final
 * figure also averages each test image's softmax with its mirror image's, as
 * the paper's test-time augmentation does (its crops add nothing on 28-pixel images).
 *
 * Built with ALEXNET_WITH_MPI (examples/CMakeLists.txt: train_fashion_mnist_mpi, where
 * libalexnet_mpi is built), the same program trains data-parallel under `mpirun -np N`: --batch
 * stays the global batch, each process loads its shard of every global batch, gradients are
 * averaged over the processes each step, the test set is evaluated in shards and summed, and
 * process 0 alone prints and writes the files. N processes then train as one process with the
 * same --batch does.
 */
#include "fashion_mnist.h"
#ifdef ALEXNET_WITH_MPI
#include <alexnet/alexnet_mpi.h>
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct options {
    const char *data, *out;
    int epochs, batch, threads, warmup, pad, plain_epochs;
    float lr, dropout;
    uint64_t seed;
    int64_t limit;
    int augment, resume;
    int cosine; /* the schedule: cosine decay per step, or the paper's step (divide by 10) */
} options;

/* One process, or one of several (MPI): the few places where they differ. */
#ifdef ALEXNET_WITH_MPI
static int process_rank, process_count = 1;
static alexnet_status train_step(alexnet_network *net, alexnet_optimizer *opt,
                                 alexnet_tensor *images, const int32_t *labels, float *loss)
{
    return alexnet_mpi_train_step(net, opt, images, labels, MPI_COMM_WORLD, loss);
}
static alexnet_status sum_over_processes(double *values, int count)
{
    return alexnet_mpi_sum(values, count, MPI_COMM_WORLD);
}
static alexnet_status save_checkpoint(alexnet_network *net, alexnet_optimizer *opt,
                                      const char *path)
{
    return alexnet_mpi_checkpoint_save(net, opt, path, 0, MPI_COMM_WORLD);
}
static alexnet_status share_initial_weights(alexnet_network *net)
{
    return alexnet_mpi_broadcast_weights(net, 0, MPI_COMM_WORLD);
}
#else
static const int process_rank = 0, process_count = 1;
static alexnet_status train_step(alexnet_network *net, alexnet_optimizer *opt,
                                 alexnet_tensor *images, const int32_t *labels, float *loss)
{
    return alexnet_train_step(net, opt, images, labels, loss);
}
static alexnet_status sum_over_processes(double *values, int count)
{
    (void)values, (void)count;
    return ALEXNET_OK;
}
static alexnet_status save_checkpoint(alexnet_network *net, alexnet_optimizer *opt,
                                      const char *path)
{
    return alexnet_checkpoint_save(net, opt, path);
}
static alexnet_status share_initial_weights(alexnet_network *net)
{
    (void)net;
    return ALEXNET_OK;
}
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const char *what)
{
    fprintf(stderr, "\ntrain_fashion_mnist: %s: %s\n", what, alexnet_last_error());
    return 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: train_fashion_mnist [--data DIR] [--out DIR] [--epochs N] [--batch N]\n"
            "                           [--lr X] [--schedule cosine|step] [--warmup N]\n"
            "                           [--dropout P] [--pad N] [--plain-epochs N] [--seed N]\n"
            "                           [--threads N] [--limit N] [--no-augment] [--resume]\n");
    exit(2);
}

static options parse(int argc, char **argv)
{
    options o = {.data = FASHION_MNIST_DIR,
                 .out = "fashion-mnist-run",
                 .epochs = 6,
                 .batch = 64,
                 .lr = 0.05f,
                 .warmup = 200,
                 .dropout = 0.0f, /* the paper's 0.5 pays off only in long runs */
                 .seed = 1,
                 .augment = 1,
                 .pad = 0, /* mirroring only: a short run fits the unshifted test images best */
                 .plain_epochs = 1,
                 .cosine = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-augment") == 0) {
            o.augment = 0;
            continue;
        }
        if (strcmp(a, "--resume") == 0) {
            o.resume = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--data") == 0)
            o.data = v;
        else if (strcmp(a, "--out") == 0)
            o.out = v;
        else if (strcmp(a, "--epochs") == 0)
            o.epochs = atoi(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = atoi(v);
        else if (strcmp(a, "--lr") == 0)
            o.lr = strtof(v, NULL);
        else if (strcmp(a, "--schedule") == 0 && strcmp(v, "cosine") == 0)
            o.cosine = 1;
        else if (strcmp(a, "--schedule") == 0 && strcmp(v, "step") == 0)
            o.cosine = 0;
        else if (strcmp(a, "--plain-epochs") == 0)
            o.plain_epochs = atoi(v);
        else if (strcmp(a, "--pad") == 0)
            o.pad = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            o.warmup = atoi(v);
        else if (strcmp(a, "--dropout") == 0)
            o.dropout = strtof(v, NULL);
        else if (strcmp(a, "--seed") == 0)
            o.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(v);
        else if (strcmp(a, "--limit") == 0)
            o.limit = atoll(v);
        else
            usage();
    }
    if (o.epochs < 1 || o.batch < 1 || o.pad < 0 || o.plain_epochs < 0 || !(o.lr > 0))
        usage();
    return o;
}

static void path_in(char *buf, size_t size, const options *o, const char *name)
{
    snprintf(buf, size, "%s/%s", o->out, name);
}

/* Test-set accuracy and mean loss, in inference mode. With `mirror`, each image and its mirror
 * image go through the network and their softmax outputs are averaged: the reflection half of
 * the paper's test-time augmentation (for 28-pixel images the crops have nothing to add). */
static alexnet_status evaluate(alexnet_network *net, alexnet_loader *loader, int mirror,
                               double *accuracy, double *loss)
{
    alexnet_tensor *images = NULL, *logits = NULL, *probabilities = NULL;
    const int32_t *labels = NULL;
    int64_t correct = 0, seen = 0;
    double total_loss = 0.0;
    alexnet_status st = alexnet_loader_start_epoch(loader, 0);
    while (st == ALEXNET_OK && (st = alexnet_loader_next(loader, &images, &labels)) == ALEXNET_OK &&
           images != NULL) {
        int64_t n = alexnet_tensor_dim(images, 0), shape[2] = {n, 10};
        if ((st = alexnet_tensor_create(&logits, 2, shape)) != ALEXNET_OK ||
            (st = alexnet_tensor_create(&probabilities, 2, shape)) != ALEXNET_OK ||
            (st = alexnet_network_forward(net, images, logits, 0)) != ALEXNET_OK ||
            (st = alexnet_softmax(logits, probabilities)) != ALEXNET_OK)
            break;
        if (mirror) {
            if ((st = alexnet_image_flip(images)) != ALEXNET_OK ||
                (st = alexnet_network_forward(net, images, logits, 0)) != ALEXNET_OK ||
                (st = alexnet_softmax(logits, logits)) != ALEXNET_OK)
                break;
            float *p = alexnet_tensor_data(probabilities);
            const float *q = alexnet_tensor_data(logits);
            for (int64_t i = 0; i < n * 10; i++)
                p[i] = 0.5f * (p[i] + q[i]);
        }
        const float *p = alexnet_tensor_data(probabilities);
        for (int64_t i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < 10; c++)
                if (p[i * 10 + c] > p[i * 10 + best])
                    best = c;
            const double truth = p[i * 10 + labels[i]];
            total_loss -= log(truth > 1e-30 ? truth : 1e-30);
            correct += best == labels[i];
        }
        seen += n;
        alexnet_tensor_free(logits);
        alexnet_tensor_free(probabilities);
        logits = probabilities = NULL;
    }
    alexnet_tensor_free(logits);
    alexnet_tensor_free(probabilities);
    double sums[3] = {(double)correct, (double)seen, total_loss}; /* over every shard */
    if (st == ALEXNET_OK)
        st = sum_over_processes(sums, 3);
    *accuracy = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    *loss = sums[1] > 0 ? sums[2] / sums[1] : 0.0;
    return st;
}

/* The first layer's filters as a grid, each scaled to its own range (the paper's Figure 3). */
static alexnet_status save_filters(alexnet_network *net, const char *path)
{
    alexnet_tensor *w = NULL;
    alexnet_status st = alexnet_network_param(net, "conv1.weight", &w, NULL);
    if (st != ALEXNET_OK)
        return st;
    const int n = (int)alexnet_tensor_dim(w, 0), c = (int)alexnet_tensor_dim(w, 1);
    const int k = (int)alexnet_tensor_dim(w, 2);
    const int zoom = k < 8 ? 48 / k : 4, cell = k * zoom + 2;
    const int columns = (int)ceil(sqrt((double)n)), rows = (n + columns - 1) / columns;
    const int out_c = c == 3 ? 3 : 1;
    int64_t shape[3] = {out_c, rows * cell, columns * cell};
    alexnet_tensor *grid = NULL;
    if ((st = alexnet_tensor_create(&grid, 3, shape)) != ALEXNET_OK)
        return st;
    float *g = alexnet_tensor_data(grid);
    const float *f = alexnet_tensor_data(w);
    const int64_t plane = shape[1] * shape[2];
    for (int64_t i = 0; i < alexnet_tensor_numel(grid); i++)
        g[i] = 1.0f; /* white borders */
    for (int i = 0; i < n; i++) {
        const float *filter = f + (size_t)i * c * k * k;
        float lo = filter[0], hi = filter[0];
        for (int j = 1; j < c * k * k; j++) {
            lo = filter[j] < lo ? filter[j] : lo;
            hi = filter[j] > hi ? filter[j] : hi;
        }
        const float range = hi > lo ? hi - lo : 1.0f;
        const int y0 = (i / columns) * cell + 1, x0 = (i % columns) * cell + 1;
        for (int ch = 0; ch < out_c; ch++)
            for (int y = 0; y < k * zoom; y++)
                for (int x = 0; x < k * zoom; x++) {
                    float v = filter[((size_t)ch * k + y / zoom) * k + x / zoom];
                    g[ch * plane + (int64_t)(y0 + y) * shape[2] + x0 + x] = (v - lo) / range;
                }
    }
    st = alexnet_image_save_png(grid, path);
    alexnet_tensor_free(grid);
    return st;
}

static void format_duration(double seconds, char *buf, size_t size)
{
    int s = (int)(seconds + 0.5);
    if (s >= 60)
        snprintf(buf, size, "%dm%02ds", s / 60, s % 60);
    else
        snprintf(buf, size, "%ds", s);
}

int main(int argc, char **argv)
{
#ifdef ALEXNET_WITH_MPI
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &process_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &process_count);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (process_rank != 0 && freopen("/dev/null", "w", stdout) == NULL) /* process 0 reports */
        return 1;
#endif
    options o = parse(argc, argv);
    if (o.batch % process_count != 0) {
        fprintf(stderr, "train_fashion_mnist: --batch %d does not split over %d processes\n",
                o.batch, process_count);
        return 2;
    }
    if (o.threads && alexnet_set_num_threads(o.threads) != ALEXNET_OK)
        return fail("threads");
    if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "train_fashion_mnist: cannot create '%s': %s\n", o.out, strerror(errno));
        return 1;
    }
    char model_path[1024], checkpoint_path[1024], log_path[1024], steps_path[1024],
        filters_path[1024];
    path_in(model_path, sizeof model_path, &o, "model.safetensors");
    path_in(checkpoint_path, sizeof checkpoint_path, &o, "checkpoint.safetensors");
    path_in(log_path, sizeof log_path, &o, "log.csv");
    path_in(steps_path, sizeof steps_path, &o, "steps.csv");
    path_in(filters_path, sizeof filters_path, &o, "filters.png");

    alexnet_dataset *train = NULL, *test = NULL;
    if (fashion_mnist_open(o.data, "train", &train) != ALEXNET_OK ||
        fashion_mnist_open(o.data, "t10k", &test) != ALEXNET_OK)
        return fail("opening Fashion-MNIST (install dataset-fashion-mnist, or pass --data)");

    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    if (o.resume) {
        if (alexnet_checkpoint_load(&net, &opt, checkpoint_path) != ALEXNET_OK)
            return fail("resuming");
        printf("resumed from %s after epoch %lld\n", checkpoint_path,
               (long long)alexnet_optimizer_epochs(opt));
    } else {
        alexnet_config cfg;
        alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
        cfg.init = ALEXNET_INIT_HE; /* from scratch in minutes; the paper's init needs days */
        cfg.dropout = o.dropout;
        alexnet_sgd_config sgd;
        alexnet_sgd_config_init(&sgd);
        sgd.learning_rate = o.lr;
        if (alexnet_network_create(&net, &cfg, o.seed) != ALEXNET_OK ||
            alexnet_optimizer_create(&opt, net, &sgd) != ALEXNET_OK ||
            alexnet_network_set_class_names(net, FASHION_MNIST_CLASSES, 10) != ALEXNET_OK ||
            share_initial_weights(net) != ALEXNET_OK)
            return fail("creating the network");
        if (!o.cosine) { /* the paper's step schedule: divide by 10 for the last epoch */
            alexnet_schedule_config schedule;
            alexnet_schedule_config_init(&schedule, ALEXNET_SCHEDULE_STEP);
            schedule.step_epochs = o.epochs > 1 ? o.epochs - 1 : 1;
            if (alexnet_optimizer_set_schedule(opt, &schedule) != ALEXNET_OK)
                return fail("schedule");
        }
    }
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    alexnet_network_get_config(net, &cfg);

    /* Fashion-MNIST's mean and std; training pads, crops back to 28 and mirrors. The model file
     * records them, so that alexnet-classify prepares any image as training did. */
    alexnet_preprocessing prep;
    alexnet_preprocessing_init(&prep, ALEXNET_PREPROCESSING_PLAIN);
    prep.resize = ALEXNET_RESIZE_SHORTER;
    prep.resize_side = cfg.in_height;
    prep.mean[0] = FASHION_MNIST_MEAN;
    prep.std[0] = FASHION_MNIST_STD;
    if (alexnet_network_set_preprocessing(net, &prep) != ALEXNET_OK)
        return fail("preprocessing");
    alexnet_loader_config lc;
    alexnet_loader_config_init(&lc, cfg.in_channels, cfg.in_height, cfg.in_width);
    lc.batch_size = o.batch / process_count; /* each process's shard of the global batch */
    lc.shard_count = process_count;
    lc.shard_index = process_rank;
    lc.seed = o.seed;
    lc.mean[0] = prep.mean[0];
    lc.std[0] = prep.std[0];
    if (o.augment) {
        lc.random_crop = o.pad > 0;
        lc.pad = o.pad;
        lc.flip = 1;
    }
    alexnet_loader *augmented_loader = NULL, *plain_loader = NULL, *test_loader = NULL;
    alexnet_loader_config pc = lc;
    pc.random_crop = pc.pad = pc.flip = 0;
    if (alexnet_loader_create(&augmented_loader, train, &lc) != ALEXNET_OK ||
        alexnet_loader_create(&plain_loader, train, &pc) != ALEXNET_OK)
        return fail("train loader");
    alexnet_loader_config tc = lc;
    tc.batch_size = 500;
    tc.shuffle = 0;
    tc.random_crop = tc.pad = tc.flip = 0;
    if (alexnet_loader_create(&test_loader, test, &tc) != ALEXNET_OK)
        return fail("test loader");

    const int first_epoch = (int)alexnet_optimizer_epochs(opt);
    FILE *log = fopen(process_rank ? "/dev/null" : log_path, first_epoch ? "a" : "w");
    FILE *steps = fopen(process_rank ? "/dev/null" : steps_path, first_epoch ? "a" : "w");
    if (log == NULL || steps == NULL) {
        fprintf(stderr, "train_fashion_mnist: cannot write in '%s'\n", o.out);
        return 1;
    }
    if (!first_epoch) {
        fprintf(log, "epoch,learning_rate,train_loss,test_loss,test_accuracy,seconds\n");
        fprintf(steps, "step,epoch,loss\n");
    }
    int64_t batches = alexnet_loader_batches(augmented_loader);
    if (o.limit > 0 && o.limit / o.batch < batches)
        batches = o.limit / o.batch > 0 ? o.limit / o.batch : 1;
    const int tty = isatty(STDOUT_FILENO);
    printf("training ALEXNET_ARCH_MINI on %lld Fashion-MNIST images (%lld batches of %d), %d "
           "epochs, %d threads%s",
           (long long)(batches * o.batch < alexnet_dataset_size(train)
                           ? batches * o.batch
                           : alexnet_dataset_size(train)),
           (long long)batches, o.batch, o.epochs, alexnet_get_num_threads(),
           process_count > 1 ? "" : "\n");
    if (process_count > 1)
        printf(" in each of %d processes (a shard of %d images per batch each)\n", process_count,
               o.batch / process_count);
    double accuracy = 0.0, test_loss = 0.0;
    const double run_start = now();
    for (int epoch = first_epoch; epoch < o.epochs; epoch++) {
        const double start = now();
        double loss_sum = 0.0, window_loss = 0.0;
        int64_t images_seen = 0, window = 0;
        alexnet_loader *train_loader =
            epoch < o.epochs - o.plain_epochs ? augmented_loader : plain_loader;
        if (alexnet_loader_start_epoch(train_loader, epoch) != ALEXNET_OK)
            return fail("epoch");
        for (int64_t b = 0; b < batches; b++) {
            alexnet_tensor *images = NULL;
            const int32_t *labels = NULL;
            float loss;
            if (alexnet_loader_next(train_loader, &images, &labels) != ALEXNET_OK)
                return fail("loading a batch");
            if (images == NULL && process_count == 1)
                break; /* (a shard can run out a batch early: it still joins the step) */
            const int64_t step = alexnet_optimizer_steps(opt);
            double lr = o.lr;
            if (o.cosine)
                lr *= 0.5 *
                      (1.0 + cos(3.141592653589793 * (double)step / (double)(batches * o.epochs)));
            else if (alexnet_optimizer_epochs(opt) == o.epochs - 1)
                lr = alexnet_optimizer_learning_rate(opt); /* the schedule's last epoch */
            if (step < o.warmup)
                lr *= (double)(step + 1) / (double)o.warmup;
            if (alexnet_optimizer_set_learning_rate(opt, (float)lr) != ALEXNET_OK)
                return fail("learning rate");
            if (train_step(net, opt, images, labels, &loss) != ALEXNET_OK)
                return fail("training step");
            loss_sum += loss;
            window_loss += loss;
            images_seen += images ? alexnet_tensor_dim(images, 0) * process_count : 0;
            if (++window == 20 || b + 1 == batches) {
                fprintf(steps, "%lld,%d,%.5f\n", (long long)(alexnet_optimizer_steps(opt)),
                        epoch + 1, window_loss / (double)window);
                window = 0;
                window_loss = 0.0;
            }
            const double elapsed = now() - start, rate = (double)images_seen / elapsed;
            const double left = (double)(batches - b - 1) * o.batch / rate +
                                (double)(o.epochs - epoch - 1) * batches * o.batch / rate;
            char eta[32];
            format_duration(left, eta, sizeof eta);
            if (tty || (b + 1) % 100 == 0 || b + 1 == batches) {
                printf("%sepoch %d/%d  batch %lld/%lld  loss %.4f  %.0f img/s  ETA %s%s",
                       tty ? "\r" : "", epoch + 1, o.epochs, (long long)b + 1, (long long)batches,
                       loss_sum / (double)(b + 1), rate, eta, tty ? "   " : "\n");
                fflush(stdout);
            }
        }
        const double train_seconds = now() - start;
        const float lr = alexnet_optimizer_learning_rate(opt);
        if (evaluate(net, test_loader, 0, &accuracy, &test_loss) != ALEXNET_OK)
            return fail("evaluating");
        if (alexnet_optimizer_end_epoch(opt, (float)(1.0 - accuracy), NULL) != ALEXNET_OK)
            return fail("ending the epoch");
        printf("%sepoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.2f%% "
               "(%.0f s, %.0f img/s)\n",
               tty ? "\n" : "", epoch + 1, o.epochs, loss_sum / (double)batches, test_loss,
               100.0 * accuracy, train_seconds, (double)images_seen / train_seconds);
        fflush(stdout); /* a program reading the output (bench/time_to_accuracy.py) times it */
        fprintf(log, "%d,%g,%.5f,%.5f,%.5f,%.1f\n", epoch + 1, (double)lr,
                loss_sum / (double)batches, test_loss, accuracy, train_seconds);
        fflush(log);
        fflush(steps);
        if ((process_rank == 0 && alexnet_network_save(net, model_path) != ALEXNET_OK) ||
            save_checkpoint(net, opt, checkpoint_path) != ALEXNET_OK)
            return fail("saving");
    }
    if (process_rank == 0 && save_filters(net, filters_path) != ALEXNET_OK)
        return fail("writing the filters");
    double mirrored = 0.0, mirrored_loss = 0.0;
    if (evaluate(net, test_loader, 1, &mirrored, &mirrored_loss) != ALEXNET_OK)
        return fail("evaluating");
    printf("final test accuracy: %.2f%% (one view), %.2f%% (averaged with the mirror image, as "
           "the paper tests), after %d epochs (%.0f s)\n",
           100.0 * accuracy, 100.0 * mirrored, o.epochs, now() - run_start);
    printf("model: %s\ncheckpoint: %s\nlog: %s\nfilters: %s\n", model_path, checkpoint_path,
           log_path, filters_path);
    fclose(log);
    fclose(steps);
    alexnet_loader_free(augmented_loader);
    alexnet_loader_free(plain_loader);
    alexnet_loader_free(test_loader);
    alexnet_dataset_free(train);
    alexnet_dataset_free(test);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
#ifdef ALEXNET_WITH_MPI
    MPI_Finalize();
#endif
    return 0;
}
