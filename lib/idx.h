/* The IDX format of MNIST and Fashion-MNIST: two zero bytes, a type code (0x08: unsigned bytes),
 * the number of dimensions, each dimension as a big-endian 32-bit count, then the data. Files may
 * be gzipped. Every size is checked against alexnet_limits.max_dataset_bytes from the header,
 * before the data is read or inflated. */
#ifndef ALEXNET_IDX_H
#define ALEXNET_IDX_H

#include "alexnet/alexnet.h"

#include <stdint.h>

enum { IDX_MAX_DIMS = 3 };

typedef struct idx_array {
    int ndim;
    uint32_t dims[IDX_MAX_DIMS];
    const uint8_t *data; /* inside the parsed buffer */
    size_t size;         /* bytes of data = product of dims */
} idx_array;

static inline size_t idx_header_bytes(int ndim)
{
    return 4 + 4 * (size_t)ndim;
}

/* Validates an IDX image of `size` bytes with `ndim` dimensions of unsigned bytes. `label` names
 * the file in messages. */
alexnet_status idx_parse(const char *fn, const char *label, const uint8_t *buffer, size_t size,
                         int ndim, idx_array *out);

/* The IDX bytes of a file image of `raw_size` bytes: inflated when it is gzipped (whatever its
 * name), else copied; release with free. The file-free half of idx_read_file, for fuzzing. */
alexnet_status idx_decode(const char *fn, const char *label, const uint8_t *raw, size_t raw_size,
                          int ndim, uint8_t **bytes, size_t *size);

/* Reads an IDX file of `ndim` dimensions, inflating it when it is gzipped, and returns the raw
 * bytes (release with free). */
alexnet_status idx_read_file(const char *fn, const char *path, int ndim, uint8_t **bytes,
                             size_t *size);

#endif
