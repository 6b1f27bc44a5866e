#include "memory.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_size_t allocations;

size_t memory_allocations(void)
{
    return atomic_load(&allocations);
}

bool size_mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return true;
    *out = a * b;
    return false;
}

bool size_add_overflows(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return true;
    *out = a + b;
    return false;
}

void *memory_alloc_aligned(size_t bytes)
{
    size_t rounded;
    if (bytes == 0)
        bytes = 1;
    /* aligned_alloc requires a size that is a multiple of the alignment. */
    if (size_add_overflows(bytes, MEMORY_ALIGNMENT - 1, &rounded))
        return NULL;
    rounded -= rounded % MEMORY_ALIGNMENT;
    atomic_fetch_add(&allocations, 1);
    return aligned_alloc(MEMORY_ALIGNMENT, rounded);
}

float *memory_alloc_floats(size_t count)
{
    size_t bytes;
    if (size_mul_overflows(count, sizeof(float), &bytes))
        return NULL;
    float *p = memory_alloc_aligned(bytes);
    if (p != NULL)
        memset(p, 0, bytes == 0 ? 1 : bytes);
    return p;
}

void memory_free(void *ptr)
{
    free(ptr);
}
