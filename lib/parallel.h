/* One pool of threads runs all of the library's work. OpenBLAS is kept single-threaded and every
 * GEMM is called from inside a pool part, so the two never compete for cores; a single setting
 * (alexnet_set_num_threads) governs both. */
#ifndef ALEXNET_PARALLEL_H
#define ALEXNET_PARALLEL_H

#include <stdint.h>

/* The most threads (and so parts) the library uses. */
#define PARALLEL_MAX_PARTS 256

/* Work over items [begin, end) as part `part` (0 <= part < parts). Each part runs on exactly one
 * thread, so `part` can index per-part scratch memory. */
typedef void (*parallel_fn)(void *ctx, int64_t begin, int64_t end, int part);

/* The number of parts work is split into: the thread count set by alexnet_set_num_threads. */
int parallel_parts(void);

/* Splits [0, n) into `parts` contiguous ranges (the same split for the same n and parts) and runs
 * fn on each, in parallel when the pool is free; returns when all are done. When another thread is
 * using the pool, the parts run one after another on the calling thread. */
void parallel_run(int parts, int64_t n, parallel_fn fn, void *ctx);

/* Runs fn on each item of [0, n) (begin + 1 == end), the threads claiming items one at a time as
 * they finish the last, so that a thread on a slower or busier core takes fewer: a static split
 * waits for its slowest part. Each thread first takes the items of the ranges parallel_run would
 * give it, from their front, and then helps the others from their back: an item mostly runs on
 * the thread that ran it in the passes before and after (parallel_run's or this one's), whose
 * core's caches hold its data. `part` is then a slot (< parts) that names the running thread's
 * scratch, not a share of the work, so fn's result for an item must not depend on it: no sums
 * across items (those need parallel_run's fixed parts). */
void parallel_run_balanced(int parts, int64_t n, parallel_fn fn, void *ctx);

/* The range of part p when n items are split into `parts`. */
void parallel_range(int64_t n, int parts, int part, int64_t *begin, int64_t *end);

/* The parts that get items when n items are split into `parts`, in order, into `active`; returns
 * their count. Sums of per-part results (gradients) run over these, in this order, so that they
 * do not depend on which thread ran what. */
int parallel_active_parts(int64_t n, int parts, int active[PARALLEL_MAX_PARTS]);

#endif
