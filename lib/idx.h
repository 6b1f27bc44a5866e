/* The IDX format of MNIST and Fashion-MNIST: two zero bytes, a type code (0x08: unsigned bytes),
 * the number of dimensions, each dimension as a big-endian 32-bit count, then the data. */
#ifndef ALEXNET_IDX_H
#define ALEXNET_IDX_H

#include "alexnet/alexnet.h"

#include <stdint.h>

enum { IDX_MAX_DIMS = 3 };
#define IDX_MAX_BYTES ((size_t)1 << 31) /* 2 GiB uncompressed: far above any IDX data set */

typedef struct idx_array {
    int ndim;
    uint32_t dims[IDX_MAX_DIMS];
    const uint8_t *data; /* inside the parsed buffer */
    size_t size;         /* bytes of data = product of dims */
} idx_array;

/* Validates an IDX image of `size` bytes with `ndim` dimensions of unsigned bytes. `label` names
 * the file in messages. */
alexnet_status idx_parse(const char *fn, const char *label, const uint8_t *buffer, size_t size,
                         int ndim, idx_array *out);

/* Reads an IDX file, inflating it first when it is gzipped (whatever its name), and returns the
 * raw bytes (release with free). */
alexnet_status idx_read_file(const char *fn, const char *path, uint8_t **bytes, size_t *size);

#endif
