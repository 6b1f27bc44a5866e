/* What every benchmark program needs: a monotonic clock and a way out on a failed call. */
#ifndef ALEXNET_BENCH_COMMON_H
#define ALEXNET_BENCH_COMMON_H

#include <alexnet/alexnet.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Exits with the library's message when `st` is a failure; `program` and `what` name the step. */
static inline void bench_check(const char *program, alexnet_status st, const char *what)
{
    if (st != ALEXNET_OK) {
        fprintf(stderr, "%s: %s: %s\n", program, what, alexnet_last_error());
        exit(1);
    }
}

#endif
