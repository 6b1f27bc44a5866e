/* The storage behind a network's parameters: one arena on the heap, or the data section of a model
 * file mapped into memory. Handles made by alexnet_network_share read the same storage, so it is
 * reference-counted and released by whichever handle lets go of it last. */
#ifndef ALEXNET_WEIGHTS_H
#define ALEXNET_WEIGHTS_H

#include "alexnet/alexnet.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weights {
    atomic_int refs;
    float *arena;  /* heap storage in the network's arena layout; NULL when mapped */
    size_t floats; /* of the arena */
    void *mapping; /* the whole mapped file; NULL when on the heap */
    size_t mapping_size;
} weights;

/* A zero-filled heap arena of `floats` floats, with one reference; NULL when out of memory. With
 * `zero` false only the caller's later writes define the values (a loader fills every one). */
weights *weights_alloc(size_t floats, bool zero);

/* Maps `size` bytes of the open file `fd` privately (the file is never written; a write through a
 * parameter view copies that page for this process), with one reference; NULL on failure with
 * errno set. */
weights *weights_map(int fd, size_t size);

/* Another reference to `w`. */
weights *weights_retain(weights *w);

/* Drops one reference; the last one frees the arena or unmaps the file. NULL is ignored. */
void weights_release(weights *w);

/* How many handles read `w` (1: not shared). */
int weights_readers(const weights *w);

/* The bytes of storage behind the parameters. */
size_t weights_bytes(const weights *w);

#endif
