/* Data-parallel training on MPI: how much of a step the gradient allreduce takes.
 *
 *   mpirun -np 2 bench_mpi [--steps N] [--batch B] [mini|torchvision ...]
 *
 * For each architecture: the mean time of alexnet_mpi_train_step with B images per process (1
 * thread per process unless ALEXNET_THREADS says otherwise), and the mean time of one
 * MPI_Allreduce of the same gradient buffer (parameters x 4 bytes) on its own, which is what the
 * step adds to one process's forward, backward and update; their ratio is the share of the step
 * spent communicating. Process 0 prints one line per architecture. */
#include "bench_common.h"

#include <alexnet/alexnet_mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char PROGRAM[] = "bench_mpi";

static alexnet_arch arch_of(const char *name)
{
    if (strcmp(name, "paper") == 0)
        return ALEXNET_ARCH_PAPER;
    if (strcmp(name, "torchvision") == 0)
        return ALEXNET_ARCH_TORCHVISION;
    return ALEXNET_ARCH_MINI;
}

static void measure(const char *name, int batch, int steps, int rank, int size)
{
    alexnet_config cfg;
    bench_check(PROGRAM, alexnet_config_init(&cfg, arch_of(name)), "config");
    cfg.dropout = 0.0f;
    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    bench_check(PROGRAM, alexnet_network_create(&net, &cfg, 1), "network");
    bench_check(PROGRAM, alexnet_optimizer_create(&opt, net, &sgd), "optimizer");
    int64_t shape[4] = {batch, cfg.in_channels, cfg.in_height, cfg.in_width};
    alexnet_tensor *x = NULL;
    bench_check(PROGRAM, alexnet_tensor_create(&x, 4, shape), "images");
    float *d = alexnet_tensor_data(x);
    for (int64_t i = 0; i < alexnet_tensor_numel(x); i++)
        d[i] = (float)((i * 7919 + rank) % 1000) / 1000.0f - 0.5f;
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch);
    for (int i = 0; i < batch; i++)
        labels[i] = (i * 3 + rank) % cfg.num_classes;
    float loss;
    bench_check(PROGRAM, alexnet_mpi_train_step(net, opt, x, labels, MPI_COMM_WORLD, &loss),
                "warm-up step");
    MPI_Barrier(MPI_COMM_WORLD);
    double start = bench_now();
    for (int s = 0; s < steps; s++)
        bench_check(PROGRAM, alexnet_mpi_train_step(net, opt, x, labels, MPI_COMM_WORLD, &loss),
                    "step");
    MPI_Barrier(MPI_COMM_WORLD);
    const double step = (bench_now() - start) / steps;
    alexnet_tensor *grads = NULL;
    bench_check(PROGRAM, alexnet_network_param_buffers(net, NULL, &grads), "gradients");
    const int count = (int)alexnet_tensor_numel(grads);
    MPI_Allreduce(MPI_IN_PLACE, alexnet_tensor_data(grads), count, MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    start = bench_now();
    for (int s = 0; s < steps; s++)
        MPI_Allreduce(MPI_IN_PLACE, alexnet_tensor_data(grads), count, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
    const double allreduce = (bench_now() - start) / steps;
    if (rank == 0)
        printf("%-12s %d processes x batch %3d, %d threads each: step %8.1f ms, allreduce of "
               "%6.1f MB %7.1f ms = %4.1f%% of the step; %6.1f images/s\n",
               name, size, batch, alexnet_get_num_threads(), step * 1e3, count * 4.0 / 1e6,
               allreduce * 1e3, 100.0 * allreduce / step, size * batch / step);
    free(labels);
    alexnet_tensor_free(x);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *threads = getenv("ALEXNET_THREADS");
    bench_check(PROGRAM, alexnet_set_num_threads(threads ? atoi(threads) : 1), "threads");
    int steps = 5, batch = 32, archs = 0;
    const char *names[3];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (archs < 3)
            names[archs++] = argv[i];
    }
    if (archs == 0)
        names[archs++] = "mini";
    for (int a = 0; a < archs; a++)
        measure(names[a], batch, steps, rank, size);
    MPI_Finalize();
    return 0;
}
