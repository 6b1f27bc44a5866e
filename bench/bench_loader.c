/* Is data loading hidden behind training? MINI training steps on Fashion-MNIST, three ways, in one
 * run on the same network settings:
 *   preloaded  batches decoded into tensors beforehand (no augmentation): the ceiling
 *   prefetch   the loader with the paper's augmentation (pad-and-crop, flips), next batch prepared
 *              on its thread while the current one trains
 *   inline     the same loader without the thread: what prefetching saves
 *
 *   bench_loader [FASHION_MNIST_DIR] [STEPS] [BATCH]
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(alexnet_status st, const char *what)
{
    bench_check("bench_loader", st, what);
}

static alexnet_network *fresh_network(alexnet_optimizer **opt)
{
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    cfg.init = ALEXNET_INIT_HE;
    alexnet_network *net = NULL;
    check(alexnet_network_create(&net, &cfg, 1), "network");
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    check(alexnet_optimizer_create(opt, net, &sgd), "optimizer");
    return net;
}

/* images/s of `steps` training steps fed by the loader (after one warm-up step). */
static double with_loader(alexnet_dataset *ds, const alexnet_loader_config *cfg, int steps)
{
    alexnet_optimizer *opt = NULL;
    alexnet_network *net = fresh_network(&opt);
    alexnet_loader *ld = NULL;
    check(alexnet_loader_create(&ld, ds, cfg), "loader");
    check(alexnet_loader_start_epoch(ld, 0), "epoch");
    double start = 0;
    int64_t images_seen = 0;
    for (int s = 0; s <= steps; s++) {
        if (s == 1)
            start = bench_now();
        alexnet_tensor *images = NULL;
        const int32_t *labels = NULL;
        check(alexnet_loader_next(ld, &images, &labels), "next");
        check(alexnet_train_step(net, opt, images, labels, NULL), "step");
        if (s > 0)
            images_seen += alexnet_tensor_dim(images, 0);
    }
    double rate = (double)images_seen / (bench_now() - start);
    alexnet_loader_free(ld);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return rate;
}

static double preloaded(alexnet_dataset *ds, alexnet_loader_config cfg, int steps)
{
    cfg.random_crop = cfg.flip = cfg.pad = 0;
    alexnet_loader *ld = NULL;
    check(alexnet_loader_create(&ld, ds, &cfg), "loader");
    check(alexnet_loader_start_epoch(ld, 0), "epoch");
    alexnet_tensor **batches = calloc((size_t)steps + 1, sizeof *batches);
    int32_t **labels = calloc((size_t)steps + 1, sizeof *labels);
    for (int s = 0; s <= steps; s++) {
        alexnet_tensor *images = NULL;
        const int32_t *l = NULL;
        check(alexnet_loader_next(ld, &images, &l), "next");
        int64_t shape[4] = {alexnet_tensor_dim(images, 0), 1, 28, 28};
        check(alexnet_tensor_create(&batches[s], 4, shape), "tensor");
        memcpy(alexnet_tensor_data(batches[s]), alexnet_tensor_data(images),
               sizeof(float) * (size_t)alexnet_tensor_numel(images));
        labels[s] = malloc(sizeof(int32_t) * (size_t)shape[0]);
        memcpy(labels[s], l, sizeof(int32_t) * (size_t)shape[0]);
    }
    alexnet_loader_free(ld);
    alexnet_optimizer *opt = NULL;
    alexnet_network *net = fresh_network(&opt);
    double start = 0;
    int64_t images_seen = 0;
    for (int s = 0; s <= steps; s++) {
        if (s == 1)
            start = bench_now();
        check(alexnet_train_step(net, opt, batches[s], labels[s], NULL), "step");
        if (s > 0)
            images_seen += alexnet_tensor_dim(batches[s], 0);
    }
    double rate = (double)images_seen / (bench_now() - start);
    for (int s = 0; s <= steps; s++) {
        alexnet_tensor_free(batches[s]);
        free(labels[s]);
    }
    free(batches);
    free(labels);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return rate;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int steps = argc > 2 ? atoi(argv[2]) : 100, batch = argc > 3 ? atoi(argv[3]) : 128;
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", root);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", root);
    alexnet_dataset *ds = NULL;
    check(alexnet_dataset_open_idx(&ds, images, labels), "Fashion-MNIST");
    alexnet_loader_config cfg;
    alexnet_loader_config_init(&cfg, 1, 28, 28);
    cfg.batch_size = batch;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    cfg.mean[0] = 0.286f;
    cfg.std[0] = 0.353f;
    const double base = preloaded(ds, cfg, steps);
    const double prefetch = with_loader(ds, &cfg, steps);
    cfg.prefetch = 0;
    const double inline_rate = with_loader(ds, &cfg, steps);
    printf("MINI training on Fashion-MNIST, batch %d, %d steps, %d threads\n", batch, steps,
           alexnet_get_num_threads());
    printf("| feeding | images/s | vs preloaded |\n|---|---|---|\n");
    printf("| preloaded tensors | %.0f | 1.00 |\n", base);
    printf("| loader + augmentation, prefetch thread | %.0f | %.2f |\n", prefetch, prefetch / base);
    printf("| loader + augmentation, no thread | %.0f | %.2f |\n", inline_rate, inline_rate / base);
    alexnet_dataset_free(ds);
    return 0;
}
