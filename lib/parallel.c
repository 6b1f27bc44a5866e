#define _GNU_SOURCE /* sched_getaffinity */
#include "parallel.h"

#include "error.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Waking a sleeping thread costs tens of microseconds (a futex and an interrupt to another core,
 * more under a hypervisor), and one inference on one image runs some forty jobs, most of them
 * short. So a worker that finishes a job watches for the next one for about this many pause
 * instructions (some tens of microseconds) before it sleeps. */
enum { MAX_THREADS = PARALLEL_MAX_PARTS, SPIN_PAUSES = 4000 };

/* The caller waiting for the workers' parts of its job watches as long, then keeps watching with
 * sched_yield for up to this long before it sleeps: parts often end further apart than the spin
 * (a core that runs slower, an image that costs more), and each time the caller sleeps its wake-up
 * delays the next job (MINI's training step slept about 7 times with the spin alone, 2 to 3 times
 * with this). Yielding lets a worker that shares the caller's core (more threads than cores) run.
 */
static const int64_t CALLER_YIELD_NS = 4000000;

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* A job is published by bumping `generation`; each worker runs the parts assigned to it (part p
 * goes to thread p % threads) and the caller, as thread 0, waits for `pending` to reach zero.
 * The job's fields are written before `generation` is released, so a worker that sees the new
 * generation (spinning, or under the lock) sees the job. */
typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    pthread_mutex_t busy; /* held by the caller of a parallel job */
    pthread_t workers[MAX_THREADS];
    int threads; /* including the calling thread */
    atomic_uint_fast64_t generation;
    uint64_t start_generation; /* the generation when the workers were started */
    atomic_int pending;
    atomic_bool stopping;
    parallel_fn fn;
    void *ctx;
    int64_t n;
    int parts;
    bool balanced; /* items claimed one at a time (parallel_run_balanced) */
    /* A balanced job's parts: each part's unclaimed items [front, back), relative to its range's
     * start, as front << 32 | back. One cache line each: the owner claims from the front on
     * every item, and another thread only touches it to steal from the back. */
    struct {
        _Alignas(64) atomic_uint_fast64_t span;
    } unclaimed[MAX_THREADS];
} pool;

static pool the_pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .threads = 1,
};
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static int configured_threads; /* 0 until first use */

void parallel_range(int64_t n, int parts, int part, int64_t *begin, int64_t *end)
{
    *begin = n * part / parts;
    *end = n * (part + 1) / parts;
}

int parallel_active_parts(int64_t n, int parts, int active[PARALLEL_MAX_PARTS])
{
    int count = 0;
    for (int part = 0; part < parts; part++) {
        int64_t begin, end;
        parallel_range(n, parts, part, &begin, &end);
        if (begin < end)
            active[count++] = part;
    }
    return count;
}

/* Claims one unclaimed item of `part` (its first, or with `steal` its last) into *item. */
static bool claim(pool *p, int part, bool steal, int64_t *item)
{
    atomic_uint_fast64_t *span = &p->unclaimed[part].span;
    uint_fast64_t now = atomic_load_explicit(span, memory_order_relaxed);
    for (;;) {
        const uint_fast64_t front = now >> 32, back = now & UINT32_MAX;
        if (front >= back)
            return false;
        const uint_fast64_t next = steal ? (front << 32 | (back - 1)) : ((front + 1) << 32 | back);
        if (atomic_compare_exchange_weak_explicit(span, &now, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            int64_t begin, end;
            parallel_range(p->n, p->parts, part, &begin, &end);
            *item = begin + (int64_t)(steal ? back - 1 : front);
            return true;
        }
    }
}

/* A balanced job: the thread runs the items of the parts parallel_run would give it, from their
 * front, so that an item usually runs on the thread that ran it in the last pass and will run it
 * in the next (its data is in that core's caches); then it helps the others from their back. */
static void run_balanced(pool *p, int thread)
{
    if (thread >= p->parts) /* its slot would have no scratch */
        return;
    int64_t item;
    for (int part = thread; part < p->parts; part += p->threads)
        while (claim(p, part, false, &item))
            p->fn(p->ctx, item, item + 1, thread);
    for (int i = 1; i < p->parts; i++) {
        const int part = (thread + i) % p->parts;
        while (claim(p, part, true, &item))
            p->fn(p->ctx, item, item + 1, thread);
    }
}

static void run_parts_of_thread(pool *p, int thread)
{
    if (p->balanced) {
        run_balanced(p, thread);
        return;
    }
    for (int part = thread; part < p->parts; part += p->threads) {
        int64_t begin, end;
        parallel_range(p->n, p->parts, part, &begin, &end);
        if (begin < end)
            p->fn(p->ctx, begin, end, part);
    }
}

/* Waits for a generation after `seen` (or for the pool to stop): spinning first, then asleep. */
static uint64_t wait_for_job(pool *p, uint64_t seen)
{
    for (int i = 0; i < SPIN_PAUSES; i++) {
        uint64_t now = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (now != seen || atomic_load_explicit(&p->stopping, memory_order_acquire))
            return now;
        cpu_pause();
    }
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->stopping))
        pthread_cond_wait(&p->wake, &p->lock);
    uint64_t now = atomic_load(&p->generation);
    pthread_mutex_unlock(&p->lock);
    return now;
}

static void *worker_main(void *arg)
{
    int thread = (int)(intptr_t)arg;
    pool *p = &the_pool;
    /* Not p->generation: a job may already have been published before this thread got here. */
    pthread_mutex_lock(&p->lock);
    uint64_t seen = p->start_generation;
    pthread_mutex_unlock(&p->lock);
    for (;;) {
        seen = wait_for_job(p, seen);
        if (atomic_load(&p->stopping))
            break;
        run_parts_of_thread(p, thread);
        if (atomic_fetch_sub(&p->pending, 1) == 1) { /* the last: wake the caller if it sleeps */
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
    return NULL;
}

static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stopping, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++)
        pthread_join(p->workers[t], NULL);
    atomic_store(&p->stopping, false);
    p->threads = 1;
}

/* Starts threads-1 workers; on failure keeps as many as started. */
static int pool_start(pool *p, int threads)
{
    p->threads = 1;
    p->start_generation = atomic_load(&p->generation);
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&p->workers[t], NULL, worker_main, (void *)(intptr_t)t) != 0)
            break;
        p->threads = t + 1;
    }
    return p->threads;
}

static int default_threads(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

/* A forked child has none of the parent's workers: it starts again from an empty pool. */
static void reset_after_fork(void)
{
    pthread_mutex_init(&the_pool.lock, NULL);
    pthread_mutex_init(&the_pool.busy, NULL);
    pthread_cond_init(&the_pool.wake, NULL);
    pthread_cond_init(&the_pool.done, NULL);
    pthread_mutex_init(&config_lock, NULL);
    the_pool.threads = 1;
    atomic_store(&the_pool.stopping, false);
    configured_threads = 0;
}

/* Called with config_lock held. */
static int apply_threads(int threads)
{
    static bool fork_handler_installed;
    if (!fork_handler_installed)
        fork_handler_installed = pthread_atfork(NULL, NULL, reset_after_fork) == 0;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    pthread_mutex_lock(&the_pool.busy);
    if (the_pool.threads > 1)
        pool_stop(&the_pool);
    configured_threads = pool_start(&the_pool, threads);
    pthread_mutex_unlock(&the_pool.busy);
    /* Every GEMM runs inside one pool part: OpenBLAS's own threads would only oversubscribe. */
    openblas_set_num_threads(1);
    return configured_threads;
}

int parallel_parts(void)
{
    pthread_mutex_lock(&config_lock);
    int threads = configured_threads;
    if (threads == 0)
        threads = apply_threads(default_threads());
    pthread_mutex_unlock(&config_lock);
    return threads;
}

static int64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The caller's watch for its job's end before it sleeps (CALLER_YIELD_NS). */
static void wait_for_workers(pool *p)
{
    for (int i = 0; i < SPIN_PAUSES && atomic_load(&p->pending) > 0; i++)
        cpu_pause();
    const int64_t until = monotonic_ns() + CALLER_YIELD_NS;
    while (atomic_load(&p->pending) > 0 && monotonic_ns() < until)
        sched_yield();
}

/* Runs a job on the pool: as contiguous parts, or balanced (items claimed one at a time). */
static void run_job(int parts, int64_t n, parallel_fn fn, void *ctx, bool balanced)
{
    pool *p = &the_pool;
    /* A balanced part's items are counted in 32 bits. */
    bool pooled = parts > 1 && n > 1 && (!balanced || n / parts < UINT32_MAX) &&
                  pthread_mutex_trylock(&p->busy) == 0;
    if (pooled && p->threads <= 1) {
        pthread_mutex_unlock(&p->busy);
        pooled = false;
    }
    if (!pooled) {
        if (balanced) {
            for (int64_t item = 0; item < n; item++)
                fn(ctx, item, item + 1, 0);
            return;
        }
        for (int part = 0; part < parts; part++) {
            int64_t begin, end;
            parallel_range(n, parts, part, &begin, &end);
            if (begin < end)
                fn(ctx, begin, end, part);
        }
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->parts = parts;
    p->balanced = balanced;
    for (int part = 0; balanced && part < parts; part++) {
        int64_t begin, end;
        parallel_range(n, parts, part, &begin, &end);
        atomic_store(&p->unclaimed[part].span, (uint_fast64_t)(end - begin));
    }
    atomic_store(&p->pending, p->threads - 1);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    run_parts_of_thread(p, 0);

    wait_for_workers(p);
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->busy);
}

void parallel_run(int parts, int64_t n, parallel_fn fn, void *ctx)
{
    run_job(parts, n, fn, ctx, false);
}

void parallel_run_balanced(int parts, int64_t n, parallel_fn fn, void *ctx)
{
    run_job(parts, n, fn, ctx, true);
}

/* A host that dlcloses the library must not keep threads that run its unmapped code: the workers
 * are joined when the library is unloaded (or the process exits normally). A job still running on
 * another thread is waited for. */
__attribute__((destructor)) static void parallel_shutdown(void)
{
    pthread_mutex_lock(&config_lock);
    pthread_mutex_lock(&the_pool.busy);
    if (the_pool.threads > 1)
        pool_stop(&the_pool);
    configured_threads = 0;
    pthread_mutex_unlock(&the_pool.busy);
    pthread_mutex_unlock(&config_lock);
}

alexnet_status alexnet_set_num_threads(int threads)
{
    if (threads < 0 || threads > MAX_THREADS)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "alexnet_set_num_threads: %d threads requested; use 1 to %d, or 0 for "
                         "one per available core",
                         threads, MAX_THREADS);
    pthread_mutex_lock(&config_lock);
    int wanted = threads == 0 ? default_threads() : threads;
    int started = apply_threads(wanted);
    pthread_mutex_unlock(&config_lock);
    if (started < wanted)
        return error_set(ALEXNET_ERR_INTERNAL,
                         "alexnet_set_num_threads: only %d of %d threads could be started; the "
                         "library runs with %d",
                         started, wanted, started);
    return ALEXNET_OK;
}

int alexnet_get_num_threads(void)
{
    return parallel_parts();
}
