/* One benchmark measurement of libalexnet in its own process (so peak memory is its own):
 *   bench_alexnet ARCH MODE BATCH ITERATIONS [THREADS]
 *   bench_alexnet sgemm THREADS
 * ARCH: paper | torchvision | mini; MODE: infer | train (forward, backward and SGD update).
 * Prints one JSON object: images per second of the median of ITERATIONS timed passes after one
 * warm-up pass (which also plans the memory; the median, so that a burst of another tenant's work
 * on a shared machine does not decide the figure), the process's peak resident memory, and each
 * layer's mean time over the timed passes with its floating-point work (the direct convolution's,
 * whatever algorithm ran).
 * The sgemm mode prints OpenBLAS's own rate on large square matrices with THREADS threads: the
 * bound a convolution computed as im2col + GEMM cannot pass.
 *
 * Links the internal archive: the per-layer times come from the network's profile hook. */
#include "bench_common.h"
#include "network.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void openblas_set_num_threads(int);

static void fail(const char *what)
{
    fprintf(stderr, "bench_alexnet: %s: %s\n", what, alexnet_last_error());
    exit(1);
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* GFLOP/s of OpenBLAS sgemm on n x n matrices with its own threads, best of a few runs. */
static int bench_sgemm(int threads)
{
    const int n = 2048;
    float *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n),
          *c = malloc(sizeof(float) * (size_t)n * n);
    if (!a || !b || !c)
        return 1;
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    openblas_set_num_threads(threads);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        t = bench_now() - t;
        best = t < best ? t : best;
    }
    printf("{\"sgemm_gflops\": %.2f, \"threads\": %d}\n", 2.0 * n * n * (double)n / best * 1e-9,
           threads);
    free(a);
    free(b);
    free(c);
    return 0;
}

/* Multiply-adds of one image through layer i (a direct convolution's count for convolutions),
 * and of its backward: the weight gradient, plus the input gradient unless it is the first. */
static void layer_work(const alexnet_network *net, int i, double *forward, double *backward)
{
    const layer *l = &net->layers[i];
    const shape out = net->plan.shapes[i + 1];
    *forward = *backward = 0.0;
    if (l->ops == &conv_ops)
        *forward = (double)shape_size(out) * l->conv.in_channels / l->conv.groups * l->conv.kernel *
                   l->conv.kernel;
    else if (l->ops == &linear_ops)
        *forward = (double)l->linear.in_features * l->linear.out_features;
    *backward = *forward * (i == 0 ? 1.0 : 2.0);
}

static void print_layers(const alexnet_network *net, const network_profile *profile, int train)
{
    printf(", \"layers\": [");
    for (int i = 0; i < net->num_layers; i++) {
        const network_layer_time *t = &profile->layers[i];
        double fwork, bwork;
        layer_work(net, i, &fwork, &bwork);
        double images = (double)t->forward_images;
        printf("%s{\"name\": \"%s\", \"forward_ms\": %.3f, \"backward_ms\": %.3f, "
               "\"forward_gflop\": %.4f, \"backward_gflop\": %.4f}",
               i ? ", " : "", net->layers[i].name,
               1e3 * t->forward_seconds / (double)t->forward_calls,
               train ? 1e3 * t->backward_seconds / (double)t->backward_calls : 0.0,
               2e-9 * fwork * images / (double)t->forward_calls,
               train ? 2e-9 * bwork * images / (double)t->forward_calls : 0.0);
    }
    printf("]");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "sgemm") == 0)
        return bench_sgemm(atoi(argv[2]));
    if (argc < 5) {
        fprintf(stderr, "usage: bench_alexnet paper|torchvision|mini infer|train BATCH ITERATIONS "
                        "[THREADS]\n       bench_alexnet sgemm THREADS\n");
        return 2;
    }
    alexnet_arch arch = strcmp(argv[1], "paper") == 0         ? ALEXNET_ARCH_PAPER
                        : strcmp(argv[1], "torchvision") == 0 ? ALEXNET_ARCH_TORCHVISION
                                                              : ALEXNET_ARCH_MINI;
    int train = strcmp(argv[2], "train") == 0;
    int batch = atoi(argv[3]), iterations = atoi(argv[4]);
    if (argc > 5 && alexnet_set_num_threads(atoi(argv[5])) != ALEXNET_OK)
        fail("threads");

    alexnet_config cfg;
    alexnet_config_init(&cfg, arch);
    alexnet_network *net = NULL;
    if (alexnet_network_create(&net, &cfg, 1) != ALEXNET_OK)
        fail("create");
    int64_t xshape[4] = {batch, cfg.in_channels, cfg.in_height, cfg.in_width};
    int64_t yshape[2] = {batch, cfg.num_classes};
    alexnet_tensor *x = NULL, *y = NULL;
    if (alexnet_tensor_create(&x, 4, xshape) || alexnet_tensor_create(&y, 2, yshape))
        fail("tensors");
    float *data = alexnet_tensor_data(x);
    for (int64_t i = 0; i < alexnet_tensor_numel(x); i++)
        data[i] = (float)(i % 255) / 255.0f - 0.5f;
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch);
    for (int i = 0; i < batch; i++)
        labels[i] = i % cfg.num_classes;

    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    alexnet_optimizer *opt = NULL;
    if (train && alexnet_optimizer_create(&opt, net, &sgd) != ALEXNET_OK)
        fail("optimizer");
    network_profile *profile = calloc(1, sizeof *profile);
    double *times = calloc((size_t)iterations + 1, sizeof(double));
    for (int it = 0; it <= iterations; it++) {
        if (it == 1) /* the first pass is the warm-up */
            net->profile = profile;
        const double start = bench_now();
        if (train ? alexnet_train_step(net, opt, x, labels, NULL)
                  : alexnet_network_forward(net, x, y, 0))
            fail(train ? "train step" : "forward");
        times[it] = bench_now() - start;
    }
    net->profile = NULL;
    qsort(times + 1, (size_t)iterations, sizeof(double), compare_doubles);
    const double seconds = times[1 + iterations / 2];
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"images_per_s\": %.3f, \"peak_rss_mib\": %.1f, \"threads\": %d",
           (double)batch / seconds, (double)usage.ru_maxrss / 1024.0, alexnet_get_num_threads());
    print_layers(net, profile, train);
    printf("}\n");
    free(profile);
    free(times);
    free(labels);
    alexnet_optimizer_free(opt);
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
    return 0;
}
