#include "safetensors.h"
#include "byte_order.h"

#include "error.h"
#include "fileio.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

typedef struct dtype_info {
    const char *name;
    unsigned bytes;
} dtype_info;

/* The reference implementation's dtypes. */
static const dtype_info DTYPES[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
};

static const dtype_info *dtype_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(DTYPES[i].name, name) == 0)
            return &DTYPES[i];
    return NULL;
}

void safetensors_free(safetensors *st)
{
    free(st->tensors);
    free(st->metadata);
    json_decref(st->json);
    memset(st, 0, sizeof *st);
}

static int by_offset(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static alexnet_status parse_metadata(const char *fn, const char *label, json_t *object,
                                     safetensors *out)
{
    if (!json_is_object(object))
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': __metadata__ is not a JSON object", fn,
                         label);
    out->metadata = calloc(json_object_size(object) + 1, sizeof *out->metadata);
    if (out->metadata == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        if (!json_is_string(value))
            return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': metadata entry '%s' is not a string",
                             fn, label, key);
        out->metadata[out->metadata_count].key = key;
        out->metadata[out->metadata_count].value = json_string_value(value);
        out->metadata_count++;
    }
    return ALEXNET_OK;
}

static alexnet_status parse_tensor(const char *fn, const char *label, const char *name,
                                   json_t *info, st_tensor *t)
{
#define BAD(...)                                                                                   \
    error_prefix(error_set(ALEXNET_ERR_FORMAT, __VA_ARGS__), "%s: '%s': tensor '%s'", fn, label,   \
                 name)
    memset(t, 0, sizeof *t);
    t->name = name;
    if (!json_is_object(info))
        return BAD("entry is not a JSON object");
    json_t *dtype = json_object_get(info, "dtype");
    json_t *shape = json_object_get(info, "shape");
    json_t *offsets = json_object_get(info, "data_offsets");
    if (!json_is_string(dtype) || !json_is_array(shape) || !json_is_array(offsets))
        return BAD("needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)");
    const dtype_info *type = dtype_lookup(json_string_value(dtype));
    if (type == NULL)
        return BAD("unknown dtype \"%.16s\"", json_string_value(dtype));
    snprintf(t->dtype, sizeof t->dtype, "%s", type->name);
    size_t ndim = json_array_size(shape);
    if (ndim > ALEXNET_MAX_DIMS)
        return BAD("%zu dimensions; at most %d are supported", ndim, ALEXNET_MAX_DIMS);
    t->ndim = (int)ndim;
    uint64_t count = 1;
    for (size_t i = 0; i < ndim; i++) {
        json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return BAD("a shape entry is not a non-negative integer");
        uint64_t size = (uint64_t)json_integer_value(d);
        if (size != 0 && count > UINT64_MAX / size)
            return BAD("the element count overflows 64 bits");
        count *= size;
        t->shape[i] = (int64_t)size;
    }
    if (json_array_size(offsets) != 2 || !json_is_integer(json_array_get(offsets, 0)) ||
        !json_is_integer(json_array_get(offsets, 1)))
        return BAD("needs data_offsets of two integers");
    json_int_t begin = json_integer_value(json_array_get(offsets, 0));
    json_int_t end = json_integer_value(json_array_get(offsets, 1));
    if (begin < 0 || end < begin)
        return BAD("data_offsets [%lld, %lld] are not a range", (long long)begin, (long long)end);
    t->begin = (uint64_t)begin;
    t->end = (uint64_t)end;
    if (count > UINT64_MAX / type->bytes || count * type->bytes != t->end - t->begin)
        return BAD("%llu bytes of data, but its shape and dtype need %llu",
                   (unsigned long long)(t->end - t->begin),
                   (unsigned long long)(count * (uint64_t)type->bytes));
    return ALEXNET_OK;
#undef BAD
}

/* torch.save writes a zip archive (PyTorch 1.6 and later) or, before that, a raw pickle. Either
 * read as safetensors gives a nonsensical header; when it does, name the real problem instead. */
static bool is_pytorch_file(const uint8_t *buffer, size_t size)
{
    static const uint8_t zip_magic[4] = {'P', 'K', 3, 4};
    if (size >= 4 && memcmp(buffer, zip_magic, 4) == 0)
        return true;
    return size >= 2 && buffer[0] == 0x80 && buffer[1] >= 2 && buffer[1] <= 5; /* PROTO op */
}

/* Parses the header of a file of `size` bytes whose first `available` bytes are in `buffer`: at
 * least 8 + N of them when the header length N fits the file, else all the file's first bytes up
 * to 16. The data section is in `buffer` only when the whole file is. */
static alexnet_status parse_header(const char *fn, const char *label, const uint8_t *buffer,
                                   size_t available, uint64_t size, safetensors *out)
{
    memset(out, 0, sizeof *out);
    const uint64_t n = size >= 8 ? read_le64(buffer) : 0;
    if (is_pytorch_file(buffer, available) &&
        (size < 8 || n > SAFETENSORS_MAX_HEADER || n > size - 8 || n < 2 || buffer[8] != '{'))
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' is a PyTorch file (torch.save's zip or pickle format, as in "
                         ".pth and .pt files), not safetensors; convert it with "
                         "tools/convert_torchvision.py IN.pth OUT.safetensors",
                         fn, label);
    if (size < 8)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s' is %llu bytes, too short for a safetensors file (it starts "
                         "with an 8-byte header length)",
                         fn, label, (unsigned long long)size);
    if (n > SAFETENSORS_MAX_HEADER)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the header length %llu exceeds the limit of %d bytes", fn,
                         label, (unsigned long long)n, SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the header length %llu runs past the end of the %llu-byte "
                         "file (truncated?)",
                         fn, label, (unsigned long long)n, (unsigned long long)size);
    if (n < 2 || buffer[8] != '{')
        return error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the header does not start with '{'", fn,
                         label);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buffer + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return error_set(ALEXNET_ERR_FORMAT,
                         "%s: '%s': the header is not valid JSON: %s (at byte %d)", fn, label,
                         jerr.text, jerr.position);
    out->json = root;
    out->data = available == size ? buffer + 8 + n : NULL;
    out->data_offset = 8 + n;
    out->data_size = size - 8 - n;
    alexnet_status st = ALEXNET_OK;
    if (!json_is_object(root)) {
        st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the header is not a JSON object", fn, label);
        goto fail;
    }
    out->tensors = calloc(json_object_size(root) + 1, sizeof *out->tensors);
    if (out->tensors == NULL) {
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
        goto fail;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "__metadata__") == 0)
            st = parse_metadata(fn, label, value, out);
        else
            st = parse_tensor(fn, label, key, value, &out->tensors[out->count++]);
        if (st != ALEXNET_OK)
            goto fail;
    }
    qsort(out->tensors, out->count, sizeof *out->tensors, by_offset);
    uint64_t expected = 0;
    for (size_t i = 0; i < out->count; i++) {
        const st_tensor *t = &out->tensors[i];
        if (t->begin != expected) {
            st = error_set(ALEXNET_ERR_FORMAT,
                           "%s: '%s': tensor '%s' starts at data byte %llu, but the previous "
                           "tensor ends at %llu (%s)",
                           fn, label, t->name, (unsigned long long)t->begin,
                           (unsigned long long)expected,
                           t->begin < expected ? "overlapping data" : "a gap in the data");
            goto fail;
        }
        expected = t->end;
    }
    if (expected != out->data_size) {
        st = error_set(ALEXNET_ERR_FORMAT,
                       "%s: '%s': the tensors cover %llu bytes of data, but the file holds %llu "
                       "(%s)",
                       fn, label, (unsigned long long)expected, (unsigned long long)out->data_size,
                       expected > out->data_size ? "offsets out of range: truncated?"
                                                 : "trailing bytes");
        goto fail;
    }
    return ALEXNET_OK;
fail:
    safetensors_free(out);
    return st;
}

alexnet_status safetensors_parse(const char *fn, const char *label, const uint8_t *buffer,
                                 size_t size, safetensors *out)
{
    return parse_header(fn, label, buffer, size, size, out);
}

alexnet_status safetensors_read_header(const char *fn, const char *label, int fd,
                                       uint64_t file_size, safetensors *out)
{
    memset(out, 0, sizeof *out);
    uint8_t prefix[16];
    size_t available = file_size < sizeof prefix ? (size_t)file_size : sizeof prefix;
    alexnet_status st = file_read_at(fn, label, fd, 0, prefix, available);
    if (st != ALEXNET_OK)
        return st;
    const uint64_t n = file_size >= 8 ? read_le64(prefix) : 0;
    if (file_size < 8 || n > SAFETENSORS_MAX_HEADER || n > file_size - 8)
        return parse_header(fn, label, prefix, available, file_size, out); /* its message */
    uint8_t *header = malloc((size_t)n + 8);
    if (header == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate %llu bytes for the header of '%s'", fn,
                         (unsigned long long)n, label);
    st = file_read_at(fn, label, fd, 0, header, (size_t)n + 8);
    if (st == ALEXNET_OK) /* jansson copies what it keeps */
        st = parse_header(fn, label, header, (size_t)n + 8, file_size, out);
    free(header);
    return st;
}

const char *safetensors_metadata(const safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->metadata_count; i++)
        if (strcmp(st->metadata[i].key, key) == 0)
            return st->metadata[i].value;
    return NULL;
}

static int host_is_big_endian(void)
{
    const uint16_t probe = 1;
    uint8_t first;
    memcpy(&first, &probe, 1);
    return first == 0;
}

static void swap_bytes_f32(float *values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t b[4], r[4];
        memcpy(b, &values[i], 4);
        r[0] = b[3], r[1] = b[2], r[2] = b[1], r[3] = b[0];
        memcpy(&values[i], r, 4);
    }
}

void safetensors_copy_f32(const safetensors *st, const st_tensor *t, float *dest)
{
    memcpy(dest, st->data + t->begin, (size_t)(t->end - t->begin));
    if (host_is_big_endian())
        swap_bytes_f32(dest, (size_t)(t->end - t->begin) / 4);
}

alexnet_status safetensors_read_f32(const char *fn, const char *label, int fd,
                                    const safetensors *st, const st_tensor *t, float *dest)
{
    alexnet_status status =
        file_read_at(fn, label, fd, st->data_offset + t->begin, dest, (size_t)(t->end - t->begin));
    if (status == ALEXNET_OK && host_is_big_endian())
        swap_bytes_f32(dest, (size_t)(t->end - t->begin) / 4);
    return status;
}

const float *safetensors_mapped_f32(const safetensors *st, const st_tensor *t, const uint8_t *file)
{
    const uint64_t at = st->data_offset + t->begin;
    if (host_is_big_endian() || ((uintptr_t)file + at) % sizeof(float) != 0)
        return NULL;
    return (const float *)(const void *)(file + at);
}

static json_t *shape_array(int ndim, const int64_t *shape)
{
    json_t *array = json_array();
    for (int i = 0; i < ndim; i++)
        json_array_append_new(array, json_integer(shape[i]));
    return array;
}

alexnet_status safetensors_write(FILE *file, const st_entry *entries, size_t count,
                                 const st_metadata *metadata, size_t metadata_count)
{
    json_t *root = json_object();
    json_t *meta = json_object();
    for (size_t i = 0; i < metadata_count; i++)
        json_object_set_new(meta, metadata[i].key, json_string(metadata[i].value));
    json_object_set_new(root, "__metadata__", meta);
    uint64_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t bytes = 4;
        for (int d = 0; d < entries[i].ndim; d++)
            bytes *= (uint64_t)entries[i].shape[d];
        json_t *info = json_object();
        json_object_set_new(info, "dtype", json_string("F32"));
        json_object_set_new(info, "shape", shape_array(entries[i].ndim, entries[i].shape));
        json_t *range = json_array();
        json_array_append_new(range, json_integer((json_int_t)offset));
        json_array_append_new(range, json_integer((json_int_t)(offset + bytes)));
        json_object_set_new(info, "data_offsets", range);
        json_object_set_new(root, entries[i].name, info);
        offset += bytes;
    }
    char *header = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (header == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "out of memory for the file header");
    size_t length = strlen(header);
    size_t padded = (length + 7) / 8 * 8; /* so the data starts 8-byte aligned */
    uint8_t prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(prefix, 1, 8, file) == 8 && fwrite(header, 1, length, file) == length;
    for (size_t i = length; ok && i < padded; i++)
        ok = fputc(' ', file) != EOF;
    free(header);
    for (size_t i = 0; ok && i < count; i++) {
        size_t n = 1;
        for (int d = 0; d < entries[i].ndim; d++)
            n *= (size_t)entries[i].shape[d];
        if (host_is_big_endian()) {
            for (size_t k = 0; ok && k < n; k++) {
                float v = entries[i].data[k];
                swap_bytes_f32(&v, 1);
                ok = fwrite(&v, 4, 1, file) == 1;
            }
        } else {
            ok = fwrite(entries[i].data, sizeof(float), n, file) == n;
        }
    }
    if (!ok) {
        char reason[ERRNO_TEXT_SIZE];
        return error_set(ALEXNET_ERR_IO, "%s", errno_text(errno, reason, sizeof reason));
    }
    return ALEXNET_OK;
}
