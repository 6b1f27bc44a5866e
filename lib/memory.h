/* Allocation helpers: every size the library computes from untrusted numbers goes through the
 * checked multiplications here, and every buffer the kernels touch is 64-byte aligned (one cache
 * line, and the widest SIMD load). */
#ifndef ALEXNET_MEMORY_H
#define ALEXNET_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { MEMORY_ALIGNMENT = 64, MEMORY_ALIGN_FLOATS = MEMORY_ALIGNMENT / sizeof(float) };

/* *out = a * b; returns true (and leaves *out alone) when the product overflows. */
bool size_mul_overflows(size_t a, size_t b, size_t *out);
/* *out = a + b; returns true (and leaves *out alone) when the sum overflows. */
bool size_add_overflows(size_t a, size_t b, size_t *out);

/* n rounded up to a whole number of MEMORY_ALIGNMENT-byte lines of floats, so that buffers laid
 * one after another in an arena each start aligned. */
static inline size_t memory_round_floats(size_t n)
{
    return (n + MEMORY_ALIGN_FLOATS - 1) / MEMORY_ALIGN_FLOATS * MEMORY_ALIGN_FLOATS;
}

/* 64-byte aligned, zero-filled block of `count` floats; NULL when count * 4 overflows or the
 * allocation fails. Release with memory_free. count 0 gives a valid minimal block. */
float *memory_alloc_floats(size_t count);
/* 64-byte aligned, uninitialised block of `bytes`; NULL on failure. */
void *memory_alloc_aligned(size_t bytes);
void memory_free(void *ptr);

/* How many blocks memory_alloc_* has handed out in this process: lets the tests prove that a
 * planned forward and backward allocate nothing. */
size_t memory_allocations(void);

#endif
