/* One benchmark measurement of libalexnet in its own process (so peak memory is its own):
 *   bench_alexnet ARCH MODE BATCH ITERATIONS [THREADS]
 * ARCH: paper | torchvision | mini; MODE: infer | train (forward, backward and SGD update).
 * Prints one JSON object: images per second over ITERATIONS timed passes after one warm-up pass
 * (which also plans the memory), and the process's peak resident memory. */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void fail(const char *what)
{
    fprintf(stderr, "bench_alexnet: %s: %s\n", what, alexnet_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_alexnet paper|torchvision|mini infer|train BATCH ITERATIONS "
                        "[THREADS]\n");
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
    double start = 0.0;
    for (int it = 0; it <= iterations; it++) {
        if (it == 1)
            start = bench_now(); /* the first pass is the warm-up */
        if (train ? alexnet_train_step(net, opt, x, labels, NULL)
                  : alexnet_network_forward(net, x, y, 0))
            fail(train ? "train step" : "forward");
    }
    double seconds = bench_now() - start;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"images_per_s\": %.3f, \"peak_rss_mib\": %.1f, \"threads\": %d}\n",
           (double)batch * iterations / seconds, (double)usage.ru_maxrss / 1024.0,
           alexnet_get_num_threads());
    free(labels);
    alexnet_optimizer_free(opt);
    alexnet_tensor_free(x);
    alexnet_tensor_free(y);
    alexnet_network_free(net);
    return 0;
}
