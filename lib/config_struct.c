#include "config_struct.h"

#include "error.h"

#include <string.h>

static alexnet_status check_size(const char *fn, const char *type, const void *caller, size_t *size,
                                 size_t min_size)
{
    if (caller == NULL)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: argument 'cfg' is NULL (an %s is needed)", fn, type);
    memcpy(size, caller, sizeof *size); /* struct_size is the first member of every config */
    if (*size < min_size)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: %s.struct_size is %zu, smaller than any version of the struct "
                         "(%zu); fill it with %s_init first",
                         fn, type, *size, min_size, type);
    return ALEXNET_OK;
}

alexnet_status config_copy_in(const char *fn, const char *type, void *dst, size_t dst_size,
                              const void *src, size_t min_size)
{
    size_t size = 0;
    alexnet_status st = check_size(fn, type, src, &size, min_size);
    if (st != ALEXNET_OK)
        return st;
    const unsigned char *bytes = src;
    for (size_t i = dst_size; i < size; i++)
        if (bytes[i] != 0)
            return error_set(
                ALEXNET_ERR_INVALID_ARGUMENT,
                "%s: %s.struct_size is %zu but libalexnet %s knows %zu bytes of it, and "
                "byte %zu past them is set: the program was built for a newer "
                "libalexnet and asks for an option this one does not have",
                fn, type, size, alexnet_version_string(), dst_size, i);
    memcpy(dst, src, size < dst_size ? size : dst_size);
    memcpy(dst, &dst_size, sizeof dst_size);
    return ALEXNET_OK;
}

alexnet_status config_copy_out(const char *fn, const char *type, void *dst, const void *src,
                               size_t src_size, size_t min_size)
{
    size_t size = 0;
    alexnet_status st = check_size(fn, type, dst, &size, min_size);
    if (st != ALEXNET_OK)
        return st;
    size_t written = size < src_size ? size : src_size;
    memcpy(dst, src, written);
    memcpy(dst, &written, sizeof written);
    return ALEXNET_OK;
}
