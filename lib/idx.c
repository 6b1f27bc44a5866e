#include "idx.h"
#include "byte_order.h"

#include "error.h"
#include "fileio.h"
#include "input_limits.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Checks the header at the start of `buffer` (at least idx_header_bytes(ndim) long) and gives the
 * whole size it declares, header included, refusing counts beyond alexnet_limits. */
static alexnet_status idx_check_header(const char *fn, const char *label, const uint8_t *buffer,
                                       int ndim, idx_array *out, uint64_t *total)
{
    if (buffer[0] != 0 || buffer[1] != 0 || buffer[2] != 0x08 || buffer[3] != ndim)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' has the magic number 0x%02x%02x%02x%02x; an IDX file of "
                         "unsigned bytes with %d dimension%s starts 0x000008%02x",
                         fn, label, buffer[0], buffer[1], buffer[2], buffer[3], ndim,
                         ndim == 1 ? "" : "s", ndim);
    const uint64_t limit = (uint64_t)limits_current().max_dataset_bytes;
    uint64_t count = 1;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        out->dims[i] = read_be32(buffer + 4 + 4 * i);
        count *= out->dims[i]; /* at most 3 factors below 2^32 each, checked one by one */
        if (count > limit)
            return error_set(ALEXNET_ERR_FORMAT,
                             "%s: '%s' declares more than the %llu bytes of data that "
                             "alexnet_limits.max_dataset_bytes allows",
                             fn, label, (unsigned long long)limit);
    }
    *total = idx_header_bytes(ndim) + count;
    return ALEXNET_OK;
}

alexnet_status idx_parse(const char *fn, const char *label, const uint8_t *buffer, size_t size,
                         int ndim, idx_array *out)
{
    memset(out, 0, sizeof *out);
    if (size < 4)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is %zu bytes, too short for an IDX file", fn,
                         label, size);
    if (size < idx_header_bytes(ndim) && buffer[3] == ndim)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' ends inside its header", fn, label);
    uint64_t total = 0;
    alexnet_status st = idx_check_header(fn, label, buffer, ndim, out, &total);
    if (st != ALEXNET_OK)
        return st;
    const size_t header = idx_header_bytes(ndim);
    const uint64_t count = total - header;
    if (count != size - header)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' declares %llu bytes of data (%u items) but holds %zu%s", fn,
                         label, (unsigned long long)count, out->dims[0], size - header,
                         count > size - header ? ": a count larger than the file" : "");
    out->data = buffer + header;
    out->size = (size_t)count;
    return ALEXNET_OK;
}

/* Inflates a gzip stream (several members allowed). As soon as the IDX header is out, the size it
 * declares is checked against alexnet_limits and caps the buffer, which grows only as data
 * arrives: inflating stops the moment the stream holds more than the header declared, so a small
 * file cannot make the reader inflate or allocate more than its header claims. */
static alexnet_status gunzip(const char *fn, const char *label, const uint8_t *in, size_t size,
                             int ndim, uint8_t **out, size_t *out_size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return error_set(ALEXNET_ERR_INTERNAL, "%s: zlib could not start", fn);
    const size_t header = idx_header_bytes(ndim);
    size_t capacity = header, used = 0;
    uint64_t total = 0; /* declared by the header, once it is out; 0 before */
    uint8_t *buffer = malloc(capacity);
    alexnet_status st = ALEXNET_OK;
    size_t consumed = 0;
    bool ended = false;
    while (buffer != NULL && st == ALEXNET_OK && !ended) {
        if (used == capacity && total == 0) {
            idx_array dims;
            st = idx_check_header(fn, label, buffer, ndim, &dims, &total);
            if (st != ALEXNET_OK)
                break;
        }
        if (used == capacity && capacity < total) { /* grow with what arrives, up to the total */
            size_t next = capacity < ((size_t)1 << 20) ? (size_t)1 << 20 : capacity * 2;
            next = next > total ? (size_t)total : next;
            uint8_t *bigger = realloc(buffer, next);
            if (bigger == NULL) {
                st = error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                               "%s: out of memory inflating '%s' (%zu bytes)", fn, label, next);
                break;
            }
            buffer = bigger;
            capacity = next;
        }
        /* Once the declared size is reached, one more byte of room shows whether more follows. */
        uint8_t spare;
        const bool full = used == capacity;
        z.next_in = (Bytef *)(in + consumed);
        z.avail_in = size - consumed > UINT32_MAX ? UINT32_MAX : (uInt)(size - consumed);
        z.next_out = full ? &spare : buffer + used;
        z.avail_out = full ? 1 : (capacity - used > UINT32_MAX ? UINT32_MAX
                                                                : (uInt)(capacity - used));
        uInt in_before = z.avail_in, out_before = z.avail_out;
        int ret = inflate(&z, Z_NO_FLUSH);
        consumed += in_before - z.avail_in;
        if (full && out_before != z.avail_out) {
            st = error_set(ALEXNET_ERR_FORMAT,
                           "%s: '%s' inflates to more than the %zu bytes its IDX header declares",
                           fn, label, capacity);
            break;
        }
        used += out_before - z.avail_out;
        if (ret == Z_STREAM_END) {
            if (consumed == size)
                ended = true;
            else
                inflateReset(&z); /* another gzip member follows */
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is not valid gzip data (%s)", fn, label,
                           z.msg ? z.msg : "corrupt");
        } else if (consumed == size && in_before == 0 && out_before == z.avail_out) {
            st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the gzip data is truncated", fn, label);
        }
    }
    inflateEnd(&z);
    if (buffer == NULL && st == ALEXNET_OK)
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory inflating '%s'", fn, label);
    if (st != ALEXNET_OK) {
        free(buffer);
        return st;
    }
    *out = buffer;
    *out_size = used;
    return ALEXNET_OK;
}

static bool is_gzip(const uint8_t *raw, size_t size)
{
    return size >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
}

alexnet_status idx_decode(const char *fn, const char *label, const uint8_t *raw, size_t raw_size,
                          int ndim, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    if (is_gzip(raw, raw_size))
        return gunzip(fn, label, raw, raw_size, ndim, bytes, size);
    uint8_t *copy = malloc(raw_size ? raw_size : 1);
    if (copy == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory for '%s'", fn, label);
    if (raw_size)
        memcpy(copy, raw, raw_size);
    *bytes = copy;
    *size = raw_size;
    return ALEXNET_OK;
}

alexnet_status idx_read_file(const char *fn, const char *path, int ndim, uint8_t **bytes,
                             size_t *size)
{
    uint8_t *raw;
    size_t raw_size;
    const size_t limit = (size_t)limits_current().max_dataset_bytes + idx_header_bytes(ndim);
    alexnet_status st = file_read_all(fn, path, limit, &raw, &raw_size);
    if (st != ALEXNET_OK)
        return st;
    if (is_gzip(raw, raw_size)) {
        st = gunzip(fn, path, raw, raw_size, ndim, bytes, size);
        free(raw);
        return st;
    }
    *bytes = raw;
    *size = raw_size;
    return ALEXNET_OK;
}
