/* libalexnet_mpi: data-parallel training on MPI, built on libalexnet's public API only.
 *
 * A step: each process sets where its samples start in the global batch (so that it draws that
 * batch's dropout), runs forward and backward, scales its mean gradient by its share n / N of
 * the global batch, and one MPI_Allreduce sums the flat gradient buffers; every process then
 * takes the same optimizer step. Before anything moves, the processes agree on success: a
 * process that failed still joins that one small reduction, so no process waits for a gradient
 * that will never come. */
#include <alexnet/alexnet_mpi.h>

#include <stdio.h>
#include <string.h>

/* A failed MPI call as ALEXNET_ERR_IO, with MPI's own words. */
static alexnet_status mpi_failed(const char *fn, const char *call, int code)
{
    char text[MPI_MAX_ERROR_STRING], message[1024];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", code);
    snprintf(message, sizeof message, "%s: %s failed: %s", fn, call, text);
    return alexnet_set_last_error(ALEXNET_ERR_IO, message);
}

static alexnet_status set_error(alexnet_status status, const char *fn, const char *what)
{
    char message[1024];
    snprintf(message, sizeof message, "%s: %s", fn, what);
    return alexnet_set_last_error(status, message);
}

/* Every process learns whether every process succeeded. A process that failed keeps its own
 * message; the others get one naming the first process that failed. */
static alexnet_status agree(const char *fn, alexnet_status local, MPI_Comm comm)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = local == ALEXNET_OK ? size : rank, first = size;
    int code = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Allreduce (agreeing on success)", code);
    if (local != ALEXNET_OK)
        return local;
    if (first < size) {
        char message[1024];
        snprintf(message, sizeof message,
                 "%s: process %d of %d failed (its own message says why); nothing was changed "
                 "here",
                 fn, first, size);
        return alexnet_set_last_error(ALEXNET_ERR_STATE, message);
    }
    return ALEXNET_OK;
}

alexnet_status alexnet_mpi_broadcast_weights(alexnet_network *net, int root, MPI_Comm comm)
{
    static const char fn[] = "alexnet_mpi_broadcast_weights";
    int size = 0;
    int code = MPI_Comm_size(comm, &size);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Comm_size", code);
    alexnet_tensor *values = NULL;
    alexnet_status st = ALEXNET_OK;
    if (net == NULL)
        st = set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn, "argument 'net' is NULL");
    else if (root < 0 || root >= size)
        st = set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn,
                       "root is not a process of the communicator");
    else
        st = alexnet_network_param_buffers(net, &values, NULL);
    long long count[2] = {values ? alexnet_tensor_numel(values) : -1, 0};
    count[1] = -count[0];
    long long extremes[2];
    code = MPI_Allreduce(count, extremes, 2, MPI_LONG_LONG, MPI_MAX, comm);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Allreduce (comparing the networks)", code);
    if ((st = agree(fn, st, comm)) != ALEXNET_OK)
        return st;
    if (extremes[0] != -extremes[1])
        return set_error(ALEXNET_ERR_SHAPE, fn,
                         "the processes' networks differ in size: create them from one "
                         "configuration");
    code = MPI_Bcast(alexnet_tensor_data(values), (int)count[0], MPI_FLOAT, root, comm);
    return code == MPI_SUCCESS ? ALEXNET_OK : mpi_failed(fn, "MPI_Bcast", code);
}

/* Forward and backward on this process's samples; its gradient buffer then holds its share of the
 * global batch's mean gradient (zero for a process without samples). */
static alexnet_status local_gradients(const char *fn, alexnet_network *net,
                                      const alexnet_tensor *images, const int32_t *labels,
                                      int64_t n, int64_t first, int64_t total, float *loss)
{
    alexnet_tensor *grads = NULL, *logits = NULL;
    alexnet_status st = alexnet_network_param_buffers(net, NULL, &grads);
    if (st != ALEXNET_OK)
        return st;
    float *g = alexnet_tensor_data(grads);
    const int64_t count = alexnet_tensor_numel(grads);
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    if ((st = alexnet_network_get_config(net, &cfg)) != ALEXNET_OK)
        return st;
    int64_t shape[2] = {n, cfg.num_classes};
    *loss = 0.0f;
    if (n == 0) {
        /* Nothing to learn from, but the training forward every other process runs still has to
         * happen here: it advances the dropout step, which must stay equal everywhere. One blank
         * image does it; its result is dropped. */
        int64_t blank_shape[4] = {1, cfg.in_channels, cfg.in_height, cfg.in_width};
        alexnet_tensor *blank = NULL;
        shape[0] = 1;
        if ((st = alexnet_tensor_create(&blank, 4, blank_shape)) == ALEXNET_OK &&
            (st = alexnet_tensor_create(&logits, 2, shape)) == ALEXNET_OK)
            st = alexnet_network_forward(net, blank, logits, 1);
        alexnet_tensor_free(blank);
        alexnet_tensor_free(logits);
        memset(g, 0, sizeof(float) * (size_t)count);
        return st;
    }
    if (labels == NULL)
        return set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn, "argument 'labels' is NULL");
    if ((st = alexnet_network_set_first_sample(net, first)) == ALEXNET_OK &&
        (st = alexnet_tensor_create(&logits, 2, shape)) == ALEXNET_OK &&
        (st = alexnet_network_forward(net, images, logits, 1)) == ALEXNET_OK &&
        (st = alexnet_network_backward(net, labels, loss)) == ALEXNET_OK) {
        const float share = (float)((double)n / (double)total);
        for (int64_t i = 0; i < count; i++)
            g[i] *= share;
    }
    alexnet_tensor_free(logits);
    return st;
}

alexnet_status alexnet_mpi_train_step(alexnet_network *net, alexnet_optimizer *opt,
                                      const alexnet_tensor *images, const int32_t *labels,
                                      MPI_Comm comm, float *loss)
{
    static const char fn[] = "alexnet_mpi_train_step";
    int rank = 0;
    int code = MPI_Comm_rank(comm, &rank);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Comm_rank", code);
    long long n = 0, first = 0, total = 0;
    alexnet_status st = ALEXNET_OK;
    if (net == NULL || opt == NULL)
        st = set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn, "argument 'net' or 'opt' is NULL");
    else if (images != NULL)
        n = alexnet_tensor_ndim(images) >= 1 ? alexnet_tensor_dim(images, 0) : 0;
    /* Where this process's samples start, and how many there are in all. */
    if ((code = MPI_Exscan(&n, &first, 1, MPI_LONG_LONG, MPI_SUM, comm)) != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Exscan", code);
    if (rank == 0)
        first = 0; /* MPI leaves rank 0's result undefined */
    if ((code = MPI_Allreduce(&n, &total, 1, MPI_LONG_LONG, MPI_SUM, comm)) != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Allreduce (counting samples)", code);
    if (st == ALEXNET_OK && total == 0)
        st = set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn, "no process has samples for this step");
    float local_loss = 0.0f;
    if (st == ALEXNET_OK)
        st = local_gradients(fn, net, images, labels, n, first, total, &local_loss);
    if ((st = agree(fn, st, comm)) != ALEXNET_OK)
        return st;

    alexnet_tensor *grads = NULL;
    alexnet_network_param_buffers(net, NULL, &grads); /* allocated by local_gradients */
    code = MPI_Allreduce(MPI_IN_PLACE, alexnet_tensor_data(grads), (int)alexnet_tensor_numel(grads),
                         MPI_FLOAT, MPI_SUM, comm);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Allreduce (gradients)", code);
    double weighted = (double)local_loss * (double)n, global_loss = 0.0;
    if ((code = MPI_Allreduce(&weighted, &global_loss, 1, MPI_DOUBLE, MPI_SUM, comm)) !=
        MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Allreduce (loss)", code);
    /* Every process holds the same gradients, so the step succeeds or fails everywhere alike. */
    st = alexnet_optimizer_step(opt);
    if (st == ALEXNET_OK && loss != NULL)
        *loss = (float)(global_loss / (double)total);
    return st;
}

alexnet_status alexnet_mpi_sum(double *values, int count, MPI_Comm comm)
{
    static const char fn[] = "alexnet_mpi_sum";
    if (values == NULL || count < 1)
        return set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn, "values must be 1 or more doubles");
    int code = MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, comm);
    return code == MPI_SUCCESS ? ALEXNET_OK : mpi_failed(fn, "MPI_Allreduce", code);
}

alexnet_status alexnet_mpi_checkpoint_save(const alexnet_network *net, const alexnet_optimizer *opt,
                                           const char *path, int root, MPI_Comm comm)
{
    static const char fn[] = "alexnet_mpi_checkpoint_save";
    int rank = 0, size = 0;
    int code = MPI_Comm_rank(comm, &rank);
    if (code == MPI_SUCCESS)
        code = MPI_Comm_size(comm, &size);
    if (code != MPI_SUCCESS)
        return mpi_failed(fn, "MPI_Comm_rank", code);
    if (root < 0 || root >= size)
        return set_error(ALEXNET_ERR_INVALID_ARGUMENT, fn,
                         "root is not a process of the communicator");
    alexnet_status st = rank == root ? alexnet_checkpoint_save(net, opt, path) : ALEXNET_OK;
    return agree(fn, st, comm);
}
