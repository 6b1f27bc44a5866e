/* Fixed-order integers in file formats, read byte by byte: independent of the host's byte order
 * and of alignment. */
#ifndef ALEXNET_BYTE_ORDER_H
#define ALEXNET_BYTE_ORDER_H

#include <stdint.h>

/* Big-endian (IDX headers, PNG chunks). */
static inline uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Little-endian (the safetensors header length). */
static inline uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
