/* The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, a
 * JSON header of N bytes, then the tensors' raw little-endian bytes.
 *
 * safetensors_parse takes a whole file in memory and checks every rule of the reference
 * implementation before anything is used: N <= 100,000,000 and inside the file; the header a JSON
 * object with no duplicate keys; "__metadata__" a map of strings; each tensor with a known dtype,
 * a shape of non-negative sizes, and data_offsets that, sorted, run from 0 without gap or overlap
 * to exactly the end of the data; element counts that do not overflow and match their byte
 * ranges. Tensor bytes are copied (memcpy) or read from the file; only a mapped file's F32 data
 * at a float-aligned address on a little-endian host is used in place. */
#ifndef ALEXNET_SAFETENSORS_H
#define ALEXNET_SAFETENSORS_H

#include "alexnet/alexnet.h"

#include <stdint.h>
#include <stdio.h>

enum { SAFETENSORS_MAX_HEADER = 100000000 };

typedef struct st_tensor {
    const char *name; /* borrowed from the parsed header */
    char dtype[8];
    int ndim;
    int64_t shape[ALEXNET_MAX_DIMS];
    uint64_t begin, end; /* byte range within the data section */
} st_tensor;

typedef struct st_metadata {
    const char *key, *value; /* borrowed from the parsed header */
} st_metadata;

typedef struct safetensors {
    st_tensor *tensors; /* in file order of their data */
    size_t count;
    st_metadata *metadata;
    size_t metadata_count;
    const uint8_t
        *data; /* the data section inside the caller's buffer; NULL when read from a file */
    uint64_t data_offset; /* where the data section starts in the file */
    uint64_t data_size;
    void *json; /* owns the strings */
} safetensors;

/* Parses and validates a file image of `size` bytes. `fn` and `label` (the file name) go into
 * error messages. On success *out refers into `buffer`, which must outlive it. */
alexnet_status safetensors_parse(const char *fn, const char *label, const uint8_t *buffer,
                                 size_t size, safetensors *out);
void safetensors_free(safetensors *st);

/* The same checks on the file open as `fd`, `file_size` bytes long (from fstat), reading only its
 * header: out->data is NULL, and tensors are then read with safetensors_read_f32. */
alexnet_status safetensors_read_header(const char *fn, const char *label, int fd,
                                       uint64_t file_size, safetensors *out);

const char *safetensors_metadata(const safetensors *st, const char *key);

/* Copies a validated F32 tensor's values into `dest` (little-endian on disk). */
void safetensors_copy_f32(const safetensors *st, const st_tensor *t, float *dest);

/* Reads a validated F32 tensor's values from the file into `dest`; ALEXNET_ERR_IO when the file
 * cannot be read or has become shorter. */
alexnet_status safetensors_read_f32(const char *fn, const char *label, int fd,
                                    const safetensors *st, const st_tensor *t, float *dest);

/* A validated F32 tensor's values where `file` (the whole file, mapped) holds them, when they can
 * be used in place: a little-endian host and a float-aligned address. NULL otherwise. */
const float *safetensors_mapped_f32(const safetensors *st, const st_tensor *t, const uint8_t *file);

/* One tensor to write, and one metadata entry. */
typedef struct st_entry {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;
} st_entry;

/* Writes a complete F32 safetensors file to `file`: header (padded with spaces to a multiple of 8
 * bytes so the data is aligned) then the tensors in the given order. The message of a failure
 * says only what went wrong (file_write_atomic adds which file). */
alexnet_status safetensors_write(FILE *file, const st_entry *entries, size_t count,
                                 const st_metadata *metadata, size_t metadata_count);

#endif
