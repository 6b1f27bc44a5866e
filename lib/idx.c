#include "idx.h"
#include "byte_order.h"

#include "error.h"
#include "fileio.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

alexnet_status idx_parse(const char *fn, const char *label, const uint8_t *buffer, size_t size,
                         int ndim, idx_array *out)
{
    memset(out, 0, sizeof *out);
    if (size < 4)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is %zu bytes, too short for an IDX file", fn,
                         label, size);
    if (buffer[0] != 0 || buffer[1] != 0 || buffer[2] != 0x08 || buffer[3] != ndim)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' has the magic number 0x%02x%02x%02x%02x; an IDX file of "
                         "unsigned bytes with %d dimension%s starts 0x000008%02x",
                         fn, label, buffer[0], buffer[1], buffer[2], buffer[3], ndim,
                         ndim == 1 ? "" : "s", ndim);
    const size_t header = 4 + 4 * (size_t)ndim;
    if (size < header)
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' ends inside its header", fn, label);
    uint64_t count = 1;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        out->dims[i] = read_be32(buffer + 4 + 4 * i);
        count *= out->dims[i]; /* at most 3 factors below 2^32 each: checked against the size */
        if (count > IDX_MAX_BYTES)
            return error_set(ALEXNET_ERR_FORMAT, "%s: '%s' declares more than %zu bytes of data",
                             fn, label, IDX_MAX_BYTES);
    }
    if (count != size - header)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' declares %llu bytes of data (%u items) but holds %zu%s", fn,
                         label, (unsigned long long)count, out->dims[0], size - header,
                         count > size - header ? ": a count larger than the file" : "");
    out->data = buffer + header;
    out->size = (size_t)count;
    return ALEXNET_OK;
}

/* Inflates a gzip stream (several members allowed) into a new buffer of at most IDX_MAX_BYTES. */
static alexnet_status gunzip(const char *fn, const char *path, const uint8_t *in, size_t size,
                             uint8_t **out, size_t *out_size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return error_set(ALEXNET_ERR_INTERNAL, "%s: zlib could not start", fn);
    size_t capacity = size * 4 + 1024, used = 0;
    uint8_t *buffer = malloc(capacity);
    alexnet_status st = ALEXNET_OK;
    size_t consumed = 0;
    while (buffer != NULL) {
        if (used == capacity) {
            if (capacity >= IDX_MAX_BYTES) {
                st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s' inflates to more than %zu bytes", fn,
                               path, IDX_MAX_BYTES);
                break;
            }
            capacity = capacity * 2 > IDX_MAX_BYTES ? IDX_MAX_BYTES : capacity * 2;
            uint8_t *bigger = realloc(buffer, capacity);
            if (bigger == NULL) {
                st = error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                               "%s: out of memory inflating '%s' (%zu bytes)", fn, path, capacity);
                break;
            }
            buffer = bigger;
        }
        size_t avail_in = size - consumed;
        z.next_in = (Bytef *)(in + consumed);
        z.avail_in = avail_in > UINT32_MAX ? UINT32_MAX : (uInt)avail_in;
        z.next_out = buffer + used;
        size_t room = capacity - used;
        z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt in_before = z.avail_in, out_before = z.avail_out;
        int ret = inflate(&z, Z_NO_FLUSH);
        consumed += in_before - z.avail_in;
        used += out_before - z.avail_out;
        if (ret == Z_STREAM_END) {
            if (consumed == size)
                break;
            inflateReset(&z); /* another gzip member follows */
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s' is not valid gzip data (%s)", fn, path,
                           z.msg ? z.msg : "corrupt");
            break;
        } else if (consumed == size && z.avail_out != 0) {
            st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the gzip data is truncated", fn, path);
            break;
        }
    }
    inflateEnd(&z);
    if (buffer == NULL && st == ALEXNET_OK)
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory inflating '%s'", fn, path);
    if (st != ALEXNET_OK) {
        free(buffer);
        return st;
    }
    *out = buffer;
    *out_size = used;
    return ALEXNET_OK;
}

alexnet_status idx_read_file(const char *fn, const char *path, uint8_t **bytes, size_t *size)
{
    uint8_t *raw;
    size_t raw_size;
    alexnet_status st = file_read_all(fn, path, IDX_MAX_BYTES, &raw, &raw_size);
    if (st != ALEXNET_OK)
        return st;
    if (raw_size >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        st = gunzip(fn, path, raw, raw_size, bytes, size);
        free(raw);
        return st;
    }
    *bytes = raw;
    *size = raw_size;
    return ALEXNET_OK;
}
