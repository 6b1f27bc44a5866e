#include "weights.h"

#include "memory.h"

#include <stdlib.h>
#include <sys/mman.h>

weights *weights_alloc(size_t floats, bool zero)
{
    weights *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    size_t bytes;
    w->arena = size_mul_overflows(floats, sizeof(float), &bytes)
                   ? NULL
                   : (zero ? memory_alloc_floats(floats) : memory_alloc_aligned(bytes));
    if (w->arena == NULL) {
        free(w);
        return NULL;
    }
    w->floats = floats;
    atomic_init(&w->refs, 1);
    return w;
}

weights *weights_map(int fd, size_t size)
{
    weights *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        free(w);
        return NULL;
    }
    w->mapping = p;
    w->mapping_size = size;
    atomic_init(&w->refs, 1);
    return w;
}

weights *weights_retain(weights *w)
{
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    return w;
}

void weights_release(weights *w)
{
    if (w == NULL)
        return;
    /* acq_rel: every reader's last use of the values happens before the storage is freed. */
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (w->mapping != NULL)
        munmap(w->mapping, w->mapping_size);
    memory_free(w->arena);
    free(w);
}

int weights_readers(const weights *w)
{
    return atomic_load_explicit(&((weights *)w)->refs, memory_order_acquire);
}

size_t weights_bytes(const weights *w)
{
    return w->mapping != NULL ? w->mapping_size : w->floats * sizeof(float);
}
