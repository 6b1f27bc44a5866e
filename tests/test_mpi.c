/* libalexnet_mpi under mpirun (tests/check_mpi.sh runs each mode):
 *
 *   test_mpi equivalence         P processes with batch B take the steps one network takes with
 *                                batch P x B (dropout on), also when a process has no samples
 *   test_mpi shards DIR          the loader's shards of an epoch of Fashion-MNIST's test set hold
 *                                the unsharded epoch's samples, each once
 *   test_mpi train DIR OPTIONS   trains MINI on shards of Fashion-MNIST's training set, for the
 *                                resume tests: --epochs E --batch GLOBAL --limit N
 *                                [--resume CHECKPOINT] --save CHECKPOINT --weights FILE
 *   test_mpi failure             process 1 exits in the middle of training: mpirun must stop
 *
 * A failed check prints its reason and exits 1, which makes mpirun fail. */
#include <alexnet/alexnet_mpi.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;

#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "test_mpi (process %d): ", rank);                                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " [%s:%d; last error: %s]\n", __FILE__, __LINE__,                      \
                    alexnet_last_error());                                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)
#define OK(call) REQUIRE((call) == ALEXNET_OK, "%s failed", #call)

static alexnet_network *mini(float dropout, uint64_t seed)
{
    alexnet_config cfg;
    OK(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.dropout = dropout;
    cfg.init = ALEXNET_INIT_HE;
    alexnet_network *net = NULL;
    OK(alexnet_network_create(&net, &cfg, seed));
    return net;
}

static alexnet_optimizer *sgd(alexnet_network *net)
{
    alexnet_sgd_config cfg;
    OK(alexnet_sgd_config_init(&cfg));
    cfg.learning_rate = 0.02f;
    alexnet_optimizer *opt = NULL;
    OK(alexnet_optimizer_create(&opt, net, &cfg));
    return opt;
}

/* Images [from, from + n) of a deterministic labelled global batch of step `step`. */
static alexnet_tensor *images_of(int step, int from, int n, int32_t *labels)
{
    int64_t shape[4] = {n, 1, 28, 28};
    alexnet_tensor *t = NULL;
    OK(alexnet_tensor_create(&t, 4, shape));
    float *d = alexnet_tensor_data(t);
    for (int i = 0; i < n; i++) {
        const int sample = from + i;
        labels[i] = (sample * 7 + step) % 10;
        for (int p = 0; p < 28 * 28; p++) {
            const unsigned h =
                (unsigned)(sample + 1) * 2654435761u + (unsigned)p * 40503u + (unsigned)step * 97u;
            d[i * 784 + p] =
                (float)(h % 1000) / 1000.0f - 0.5f + (p / 28 == 2 * labels[i] + 3 ? 1.5f : 0.0f);
        }
    }
    return t;
}

static double relative_distance(const float *a, const float *b, int64_t n)
{
    double diff = 0.0, norm = 0.0;
    for (int64_t i = 0; i < n; i++) {
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    return sqrt(diff / norm);
}

static float *flat_values(alexnet_network *net, int64_t *count)
{
    alexnet_tensor *values = NULL;
    OK(alexnet_network_param_buffers(net, &values, NULL));
    *count = alexnet_tensor_numel(values);
    return alexnet_tensor_data(values);
}

/* Every process holds exactly the weights process 0 holds. */
static void require_identical_everywhere(alexnet_network *net)
{
    int64_t count;
    const float *w = flat_values(net, &count);
    float *root = malloc(sizeof(float) * (size_t)count);
    memcpy(root, w, sizeof(float) * (size_t)count);
    REQUIRE(MPI_Bcast(root, (int)count, MPI_FLOAT, 0, MPI_COMM_WORLD) == MPI_SUCCESS, "MPI_Bcast");
    REQUIRE(memcmp(root, w, sizeof(float) * (size_t)count) == 0,
            "the weights differ from process 0's");
    free(root);
}

static int equivalence(void)
{
    enum { B = 4, STEPS = 3 };
    /* The broadcast makes weights one: here from networks made with different seeds. */
    alexnet_network *other = mini(0.5f, 100 + (uint64_t)rank);
    OK(alexnet_mpi_broadcast_weights(other, 0, MPI_COMM_WORLD));
    require_identical_everywhere(other);
    alexnet_network_free(other);
    /* Training: one seed everywhere, since the dropout draws come from it. */
    alexnet_network *net = mini(0.5f, 11);
    alexnet_optimizer *opt = sgd(net);
    OK(alexnet_mpi_broadcast_weights(net, 0, MPI_COMM_WORLD));
    float loss = 0.0f;
    int32_t labels[64];
    for (int step = 0; step < STEPS; step++) {
        alexnet_tensor *x = images_of(step, rank * B, B, labels);
        OK(alexnet_mpi_train_step(net, opt, x, labels, MPI_COMM_WORLD, &loss));
        alexnet_tensor_free(x);
    }
    /* A last global batch of one image, on process 0: the others have nothing this step. */
    alexnet_tensor *one = rank == 0 ? images_of(STEPS, 0, 1, labels) : NULL;
    OK(alexnet_mpi_train_step(net, opt, one, rank == 0 ? labels : NULL, MPI_COMM_WORLD, &loss));
    alexnet_tensor_free(one);
    require_identical_everywhere(net);
    REQUIRE(alexnet_optimizer_steps(opt) == STEPS + 1, "%lld steps counted",
            (long long)alexnet_optimizer_steps(opt));

    if (rank == 0) { /* one network, the whole batches */
        alexnet_network *ref = mini(0.5f, 11);
        alexnet_optimizer *ref_opt = sgd(ref);
        float ref_loss = 0.0f;
        for (int step = 0; step <= STEPS; step++) {
            const int n = step < STEPS ? B * size : 1;
            alexnet_tensor *x = images_of(step, 0, n, labels);
            OK(alexnet_train_step(ref, ref_opt, x, labels, &ref_loss));
            alexnet_tensor_free(x);
        }
        int64_t count;
        const float *ours = flat_values(net, &count), *theirs = flat_values(ref, &count);
        const double distance = relative_distance(ours, theirs, count);
        printf("equivalence: %d processes x batch %d vs one process x batch %d, %d steps "
               "(dropout 0.5, the last step with 1 image): weights differ by %.2e (relative); "
               "last loss %.6f vs %.6f\n",
               size, B, B * size, STEPS + 1, distance, (double)loss, (double)ref_loss);
        REQUIRE(distance <= 1e-5, "the weights differ by %.2e from one process's", distance);
        REQUIRE(fabs(loss - ref_loss) <= 1e-4 * fabs(ref_loss), "loss %g vs %g", (double)loss,
                (double)ref_loss);
        alexnet_optimizer_free(ref_opt);
        alexnet_network_free(ref);
    }

    /* A failure on one process is an error on every process, and changes nothing. */
    int64_t count;
    const float *w = flat_values(net, &count);
    float *before = malloc(sizeof(float) * (size_t)count);
    memcpy(before, w, sizeof(float) * (size_t)count);
    alexnet_tensor *x = images_of(9, rank * B, B, labels);
    if (rank == size - 1)
        labels[0] = 99; /* out of range */
    alexnet_status st = alexnet_mpi_train_step(net, opt, x, labels, MPI_COMM_WORLD, &loss);
    REQUIRE(st != ALEXNET_OK, "a bad label on process %d was not an error", size - 1);
    if (rank == size - 1)
        REQUIRE(strstr(alexnet_last_error(), "99") != NULL, "message: %s", alexnet_last_error());
    else
        REQUIRE(strstr(alexnet_last_error(), "failed (its own message says why)") != NULL,
                "message: %s", alexnet_last_error());
    REQUIRE(memcmp(before, flat_values(net, &count), sizeof(float) * (size_t)count) == 0,
            "a failed step changed the weights");
    free(before);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return 0;
}

/* A signature of one sample: its pixels and label. */
static double signature(const float *pixels, int n, int32_t label)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += pixels[i] * (double)((i % 97) + 1);
    return s * 16.0 + label;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The signatures of an epoch of a loader, in order; returns how many. */
static int epoch_signatures(alexnet_loader *ld, double *out)
{
    OK(alexnet_loader_start_epoch(ld, 3));
    int count = 0;
    for (;;) {
        alexnet_tensor *images = NULL;
        const int32_t *labels = NULL;
        OK(alexnet_loader_next(ld, &images, &labels));
        if (images == NULL)
            return count;
        for (int64_t i = 0; i < alexnet_tensor_dim(images, 0); i++)
            out[count++] = signature(alexnet_tensor_data(images) + i * 784, 784, labels[i]);
    }
}

/* Fashion-MNIST's `split` ("train" or "t10k") from `dir`. */
static alexnet_dataset *fashion_mnist(const char *dir, const char *split)
{
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    alexnet_dataset *ds = NULL;
    OK(alexnet_dataset_open_idx(&ds, images, labels));
    return ds;
}

/* This process's shard of batches of `batch` x processes, augmented as training does. */
static alexnet_loader *shard_loader(alexnet_dataset *ds, int batch, uint64_t seed)
{
    alexnet_loader_config cfg;
    OK(alexnet_loader_config_init(&cfg, 1, 28, 28));
    cfg.batch_size = batch;
    cfg.seed = seed;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    cfg.shard_count = size;
    cfg.shard_index = rank;
    alexnet_loader *ld = NULL;
    OK(alexnet_loader_create(&ld, ds, &cfg));
    return ld;
}

static int shards(const char *dir)
{
    alexnet_dataset *ds = fashion_mnist(dir, "t10k");
    const int n = (int)alexnet_dataset_size(ds);
    alexnet_loader *ld = shard_loader(ds, 96, 7);
    double *mine = malloc(sizeof(double) * (size_t)n), *all = malloc(sizeof(double) * (size_t)n);
    int count = epoch_signatures(ld, mine), *counts = malloc(sizeof(int) * (size_t)size),
        *offsets = malloc(sizeof(int) * (size_t)size);
    alexnet_loader_free(ld);
    REQUIRE(MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD) == MPI_SUCCESS,
            "MPI_Gather");
    int total = 0;
    for (int r = 0; rank == 0 && r < size; r++) {
        offsets[r] = total;
        total += counts[r];
    }
    REQUIRE(MPI_Gatherv(mine, count, MPI_DOUBLE, all, counts, offsets, MPI_DOUBLE, 0,
                        MPI_COMM_WORLD) == MPI_SUCCESS,
            "MPI_Gatherv");
    if (rank == 0) { /* the unsharded epoch, as one process with the global batch loads it */
        alexnet_loader_config cfg;
        OK(alexnet_loader_config_init(&cfg, 1, 28, 28));
        cfg.batch_size = 96 * size;
        cfg.seed = 7;
        cfg.random_crop = 1;
        cfg.pad = 2;
        cfg.flip = 1;
        OK(alexnet_loader_create(&ld, ds, &cfg));
        const int whole = epoch_signatures(ld, mine);
        alexnet_loader_free(ld);
        REQUIRE(total == n && whole == n, "%d samples over the shards, %d unsharded, of %d", total,
                whole, n);
        qsort(all, (size_t)n, sizeof(double), compare_doubles);
        qsort(mine, (size_t)n, sizeof(double), compare_doubles);
        REQUIRE(memcmp(all, mine, sizeof(double) * (size_t)n) == 0,
                "the shards do not hold the unsharded epoch's samples");
        printf("shards: %d processes loaded %d samples (", size, total);
        for (int r = 0; r < size; r++)
            printf("%s%d", r ? " + " : "", counts[r]);
        printf("), each sample of the epoch once, augmented as one process would\n");
    }
    free(mine);
    free(all);
    free(counts);
    free(offsets);
    alexnet_dataset_free(ds);
    return 0;
}

static int train(int argc, char **argv)
{
    const char *dir = argv[2], *resume = NULL, *save = NULL, *weights = NULL;
    int epochs = 1, batch = 64, limit = 512;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--limit") == 0)
            limit = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--resume") == 0)
            resume = argv[i + 1];
        else if (strcmp(argv[i], "--save") == 0)
            save = argv[i + 1];
        else if (strcmp(argv[i], "--weights") == 0)
            weights = argv[i + 1];
    }
    REQUIRE(batch % size == 0, "the global batch %d does not split over %d processes", batch, size);
    alexnet_dataset *ds = fashion_mnist(dir, "train");
    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    if (resume) {
        OK(alexnet_checkpoint_load(&net, &opt, resume));
    } else {
        net = mini(0.5f, 5);
        opt = sgd(net);
        OK(alexnet_mpi_broadcast_weights(net, 0, MPI_COMM_WORLD));
    }
    alexnet_loader *ld = shard_loader(ds, batch / size, 5);
    const int64_t steps = limit / batch;
    float loss = 0.0f;
    for (int64_t epoch = alexnet_optimizer_epochs(opt); epoch < epochs; epoch++) {
        OK(alexnet_loader_start_epoch(ld, epoch));
        for (int64_t s = 0; s < steps; s++) {
            alexnet_tensor *x = NULL;
            const int32_t *y = NULL;
            OK(alexnet_loader_next(ld, &x, &y));
            OK(alexnet_mpi_train_step(net, opt, x, y, MPI_COMM_WORLD, &loss));
        }
        OK(alexnet_optimizer_end_epoch(opt, loss, NULL));
    }
    require_identical_everywhere(net);
    if (save)
        OK(alexnet_mpi_checkpoint_save(net, opt, save, 0, MPI_COMM_WORLD));
    if (weights && rank == 0) {
        int64_t count;
        const float *w = flat_values(net, &count);
        FILE *f = fopen(weights, "wb");
        REQUIRE(f && fwrite(w, sizeof(float), (size_t)count, f) == (size_t)count, "writing %s",
                weights);
        fclose(f);
        printf("train: %d processes, epochs to %d, loss %.5f, weights in %s\n", size, epochs,
               (double)loss, weights);
    }
    alexnet_loader_free(ld);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    alexnet_dataset_free(ds);
    return 0;
}

static int failure(void)
{
    alexnet_network *net = mini(0.0f, 3);
    alexnet_optimizer *opt = sgd(net);
    int32_t labels[8];
    for (int step = 0;; step++) { /* until mpirun stops the job */
        if (rank == 1 && step == 2) {
            fprintf(stderr, "test_mpi: process 1 exits in the middle of training\n");
            exit(3);
        }
        alexnet_tensor *x = images_of(step, rank * 8, 8, labels);
        float loss;
        OK(alexnet_mpi_train_step(net, opt, x, labels, MPI_COMM_WORLD, &loss));
        alexnet_tensor_free(x);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    OK(alexnet_set_num_threads(1));
    int status = 2;
    if (argc >= 2 && strcmp(argv[1], "equivalence") == 0)
        status = equivalence();
    else if (argc >= 3 && strcmp(argv[1], "shards") == 0)
        status = shards(argv[2]);
    else if (argc >= 3 && strcmp(argv[1], "train") == 0)
        status = train(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "failure") == 0)
        status = failure();
    else
        fprintf(stderr, "usage: test_mpi equivalence | shards DIR | train DIR ... | failure\n");
    MPI_Finalize();
    return status;
}
