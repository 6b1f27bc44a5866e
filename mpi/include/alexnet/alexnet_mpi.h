/* libalexnet_mpi: data-parallel training of libalexnet networks over MPI (Open MPI).
 *
 * Every process holds a whole network and optimizer and trains on its own shard of each global
 * batch (alexnet_loader_config.shard_count / shard_index). A step runs forward and backward on
 * the process's samples, averages the gradients over all processes with one MPI_Allreduce of the
 * flat gradient buffer (weighted by each process's sample count, so shards of unequal size still
 * give the whole batch's mean), and applies the same optimizer step everywhere: the weights stay
 * identical on every process, and N processes with per-process batch B take the steps one
 * process takes with batch N x B, dropout included.
 *
 * The core library stays free of MPI; this component only uses its public API
 * (alexnet_network_param_buffers, alexnet_network_set_first_sample, alexnet_optimizer_step).
 *
 * Errors. Every function is collective: call it on every process of `comm`, in the same order.
 * When one process fails (a bad batch, a numeric error), all of them return an error instead of
 * leaving the others waiting: the status is agreed on before any gradient moves. MPI's own
 * failures are returned as ALEXNET_ERR_IO with MPI's message when `comm`'s error handler is
 * MPI_ERRORS_RETURN; under MPI's default handler they end the job. A process that dies makes
 * mpirun stop the job. */
#ifndef ALEXNET_MPI_H
#define ALEXNET_MPI_H

#include <alexnet/alexnet.h>
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies `root`'s weights into every process's network (one MPI_Bcast of the flat parameter
 * buffer), so that training starts from one initialisation. The networks must have the same
 * configuration (checked: the buffer sizes must agree), and for training the same seed too: the
 * dropout draws come from it.
 * Errors: ALEXNET_ERR_INVALID_ARGUMENT for NULL or a bad root; ALEXNET_ERR_SHAPE when the
 * configurations differ; ALEXNET_ERR_STATE for a mapped or shared network; ALEXNET_ERR_IO. */
ALEXNET_API alexnet_status alexnet_mpi_broadcast_weights(alexnet_network *net, int root,
                                                         MPI_Comm comm);

/* One data-parallel training step. `images` [n, C, H, W] and `labels` [n] are this process's
 * part of the global batch; a process whose shard is empty this step (the epoch's last global
 * batch can leave one without samples) passes NULL and NULL and still takes the step. *loss
 * (optional) gets the mean loss over the global batch on every process.
 * Errors: those of alexnet_train_step on any process (each process reports its own message, the
 * others "process K failed"); ALEXNET_ERR_INVALID_ARGUMENT when the global batch is empty;
 * ALEXNET_ERR_IO for MPI. Nothing is changed on any process when one of them fails. */
ALEXNET_API alexnet_status alexnet_mpi_train_step(alexnet_network *net, alexnet_optimizer *opt,
                                                  const alexnet_tensor *images,
                                                  const int32_t *labels, MPI_Comm comm,
                                                  float *loss);

/* Sums `count` doubles over all processes, in place on each (evaluation: correct answers, images
 * seen, loss sums). Errors: ALEXNET_ERR_INVALID_ARGUMENT; ALEXNET_ERR_IO. */
ALEXNET_API alexnet_status alexnet_mpi_sum(double *values, int count, MPI_Comm comm);

/* Writes a checkpoint (alexnet_checkpoint_save) from process `root` only; every process returns
 * its status. Resume by alexnet_checkpoint_load on every process, with any number of processes:
 * the weights, momentum and counters are the same everywhere, and the loader's shards come from
 * the seed and epoch alone. Errors: those of alexnet_checkpoint_save; ALEXNET_ERR_IO. */
ALEXNET_API alexnet_status alexnet_mpi_checkpoint_save(const alexnet_network *net,
                                                       const alexnet_optimizer *opt,
                                                       const char *path, int root, MPI_Comm comm);

#ifdef __cplusplus
}
#endif

#endif
