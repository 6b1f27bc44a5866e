/* Serving measurements of libalexnet, one per process (so peak memory is that measurement's own):
 *   bench_serve make MODEL                      writes a TORCHVISION model file (seed 1)
 *   bench_serve load MODEL REPEATS [mapped]     best load time of REPEATS, and the first (the file
 *                                               in the page cache)
 *   bench_serve memory MODEL HANDLES [mapped]   loads, makes HANDLES-1 shares, classifies one
 *                                               224x224 image on every handle at once (one host
 *                                               thread each); peak resident memory
 *   bench_serve processes MODEL N [mapped]      N processes each load the model and classify one
 *                                               image, all alive at once: their total proportional
 *                                               set size (PSS: shared pages divided among sharers)
 *   bench_serve latency MODEL ITERATIONS        batch-1 latency: median of ITERATIONS
 *   bench_serve throughput MODEL HOST_THREADS SECONDS
 *                                               images/s at batch 1, each host thread with its own
 *                                               share, for SECONDS
 * The library's thread count comes from ALEXNET_BENCH_THREADS (default: one per core). Prints one
 * JSON object. */
#include "bench_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_HANDLES = 64, SIDE = 224 };

static void check(alexnet_status st, const char *what)
{
    bench_check("bench_serve", st, what);
}

static double peak_rss_mib(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_maxrss / 1024.0;
}

/* This process's proportional set size in MiB (Linux), or -1. */
static double pss_mib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL)
        return -1.0;
    char line[256];
    double kib = -1.0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Pss:", 4) == 0)
            kib = atof(line + 4);
    fclose(f);
    return kib / 1024.0;
}

static alexnet_network *load(const char *path, int mapped)
{
    alexnet_network *net = NULL;
    check(mapped ? alexnet_network_load_mapped(&net, path) : alexnet_network_load(&net, path),
          "load");
    return net;
}

/* One host thread's state: a handle, its image and logits. */
typedef struct worker {
    alexnet_network *net;
    alexnet_tensor *image, *logits;
    double until;
    long images;
} worker;

static void worker_init(worker *w, alexnet_network *net, unsigned salt)
{
    int64_t xshape[4] = {1, 3, SIDE, SIDE}, yshape[2] = {1, 1000};
    w->net = net;
    check(alexnet_tensor_create(&w->image, 4, xshape), "image");
    check(alexnet_tensor_create(&w->logits, 2, yshape), "logits");
    float *d = alexnet_tensor_data(w->image);
    for (int64_t i = 0; i < alexnet_tensor_numel(w->image); i++)
        d[i] = (float)((i * 2654435761u + salt) % 1000) / 500.0f - 1.0f;
    w->images = 0;
}

static void worker_free(worker *w)
{
    alexnet_tensor_free(w->image);
    alexnet_tensor_free(w->logits);
}

static void *classify_once(void *arg)
{
    worker *w = arg;
    check(alexnet_network_forward(w->net, w->image, w->logits, 0), "forward");
    return NULL;
}

static void *classify_until(void *arg)
{
    worker *w = arg;
    while (bench_now() < w->until) {
        check(alexnet_network_forward(w->net, w->image, w->logits, 0), "forward");
        w->images++;
    }
    return NULL;
}

/* Runs `fn` on workers[0..count) on their own threads and waits for them. */
static void run_threads(worker *workers, int count, void *(*fn)(void *))
{
    pthread_t ids[MAX_HANDLES];
    for (int t = 0; t < count; t++)
        if (pthread_create(&ids[t], NULL, fn, &workers[t]) != 0) {
            fprintf(stderr, "bench_serve: cannot start a thread\n");
            exit(1);
        }
    for (int t = 0; t < count; t++)
        pthread_join(ids[t], NULL);
}

/* The loaded network and count-1 shares of it, each in a worker. */
static void make_workers(alexnet_network *net, worker *workers, int count)
{
    for (int t = 0; t < count; t++) {
        alexnet_network *handle = net;
        if (t > 0)
            check(alexnet_network_share(&handle, net), "share");
        worker_init(&workers[t], handle, (unsigned)t);
    }
}

static void free_workers(worker *workers, int count)
{
    for (int t = 0; t < count; t++) {
        worker_free(&workers[t]);
        alexnet_network_free(workers[t].net);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_serve make|load|memory|processes|latency|throughput MODEL ...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *mode = argv[1], *path = argv[2];
    const char *threads = getenv("ALEXNET_BENCH_THREADS");
    check(alexnet_set_num_threads(threads ? atoi(threads) : 0), "threads");

    if (strcmp(mode, "make") == 0) {
        alexnet_config cfg;
        alexnet_config_init(&cfg, ALEXNET_ARCH_TORCHVISION);
        alexnet_network *net = NULL;
        check(alexnet_network_create(&net, &cfg, 1), "create");
        check(alexnet_network_save(net, path), "save");
        alexnet_network_free(net);
        printf("{}\n");
        return 0;
    }
    if (argc < 4)
        return usage();
    const int n = atoi(argv[3]);
    const int mapped = argc > 4 && strcmp(argv[4], "mapped") == 0;

    if (strcmp(mode, "load") == 0) {
        double best = 1e30, first = 0.0;
        for (int r = 0; r < n; r++) {
            double start = bench_now();
            alexnet_network *net = load(path, mapped);
            double seconds = bench_now() - start;
            first = r == 0 ? seconds : first;
            best = seconds < best ? seconds : best;
            alexnet_network_free(net);
        }
        printf("{\"load_s\": %.5f, \"first_load_s\": %.5f}\n", best, first);
    } else if (strcmp(mode, "memory") == 0) {
        if (n < 1 || n > MAX_HANDLES)
            return usage();
        worker workers[MAX_HANDLES];
        make_workers(load(path, mapped), workers, n);
        run_threads(workers, n, classify_once);
        alexnet_memory_info m = {.struct_size = sizeof m};
        int64_t activations = 0;
        for (int t = 0; t < n; t++) {
            check(alexnet_network_memory(workers[t].net, &m), "memory");
            activations += m.activation_bytes;
        }
        printf("{\"handles\": %d, \"peak_rss_mib\": %.1f, \"weight_mib\": %.1f, "
               "\"activation_mib\": %.1f, \"mapped\": %d}\n",
               n, peak_rss_mib(), (double)m.weight_bytes / 1048576.0,
               (double)activations / 1048576.0, m.weights_mapped);
        free_workers(workers, n);
    } else if (strcmp(mode, "processes") == 0) {
        if (n < 1 || n > MAX_HANDLES)
            return usage();
        /* Each child loads and classifies and says it is ready; once all are, the parent
         * closes `go` (every child's read returns at once), they measure their PSS and report,
         * and they exit when the parent closes `done`. */
        int ready[2], go[2], report[2], done[2];
        if (pipe(ready) || pipe(go) || pipe(report) || pipe(done))
            return 1;
        for (int c = 0; c < n; c++) {
            if (fork() == 0) {
                close(go[1]);
                close(done[1]);
                worker w;
                make_workers(load(path, mapped), &w, 1);
                classify_once(&w);
                char byte = 1;
                if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 0)
                    _exit(1);
                double pss = pss_mib();
                if (write(report[1], &pss, sizeof pss) != sizeof pss ||
                    read(done[0], &byte, 1) != 0)
                    _exit(1);
                _exit(0);
            }
        }
        char byte = 1;
        for (int c = 0; c < n; c++)
            if (read(ready[0], &byte, 1) != 1)
                return 1;
        close(go[1]);
        double total = 0.0;
        for (int c = 0; c < n; c++) {
            double pss = 0.0;
            if (read(report[0], &pss, sizeof pss) != sizeof pss)
                return 1;
            total += pss;
        }
        close(done[1]);
        while (wait(NULL) > 0)
            ;
        printf("{\"processes\": %d, \"total_pss_mib\": %.1f}\n", n, total);
    } else if (strcmp(mode, "latency") == 0) {
        worker w;
        make_workers(load(path, 0), &w, 1);
        classify_once(&w); /* plans the memory */
        double *times = malloc(sizeof(double) * (size_t)n);
        for (int i = 0; i < n; i++) {
            double start = bench_now();
            classify_once(&w);
            times[i] = bench_now() - start;
        }
        qsort(times, (size_t)n, sizeof *times, cmp_double);
        printf("{\"latency_ms\": %.3f, \"threads\": %d}\n", times[n / 2] * 1e3,
               alexnet_get_num_threads());
        free(times);
        free_workers(&w, 1);
    } else if (strcmp(mode, "throughput") == 0) {
        const double seconds = argc > 4 ? atof(argv[4]) : 5.0;
        if (n < 1 || n > MAX_HANDLES)
            return usage();
        worker workers[MAX_HANDLES];
        make_workers(load(path, 0), workers, n);
        run_threads(workers, n, classify_once); /* plans every handle's memory */
        const double start = bench_now();
        for (int t = 0; t < n; t++)
            workers[t].until = start + seconds;
        run_threads(workers, n, classify_until);
        const double elapsed = bench_now() - start;
        long images = 0;
        for (int t = 0; t < n; t++)
            images += workers[t].images;
        printf("{\"host_threads\": %d, \"images_per_s\": %.2f, \"threads\": %d}\n", n,
               (double)images / elapsed, alexnet_get_num_threads());
        free_workers(workers, n);
    } else {
        return usage();
    }
    return 0;
}
