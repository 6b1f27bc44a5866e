#include "tensor.h"

#include "error.h"
#include "memory.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

alexnet_status tensor_shape_check(const char *fn, int ndim, const int64_t *shape, int64_t *numel)
{
    if (shape == NULL)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: argument 'shape' is NULL", fn);
    if (ndim < 1 || ndim > ALEXNET_MAX_DIMS)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: ndim is %d; a tensor has 1 to %d dimensions", fn, ndim,
                         ALEXNET_MAX_DIMS);
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                             "%s: dimension %d is %lld; every dimension must be >= 1", fn, i,
                             (long long)shape[i]);
        if (count > INT64_MAX / shape[i])
            return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                             "%s: the element count overflows 64 bits at dimension %d (%lld)", fn,
                             i, (long long)shape[i]);
        count *= shape[i];
    }
    size_t bytes;
    if ((uint64_t)count > SIZE_MAX || size_mul_overflows((size_t)count, sizeof(float), &bytes))
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: %lld elements of 4 bytes do not fit in the address space", fn,
                         (long long)count);
    *numel = count;
    return ALEXNET_OK;
}

static alexnet_status tensor_new(const char *fn, alexnet_tensor **out, int ndim,
                                 const int64_t *shape, float *data, tensor_kind kind)
{
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    int64_t numel;
    alexnet_status st = tensor_shape_check(fn, ndim, shape, &numel);
    if (st != ALEXNET_OK)
        return st;
    alexnet_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate a tensor handle", fn);
    if (kind == TENSOR_OWNED) {
        data = memory_alloc_floats((size_t)numel);
        if (data == NULL) {
            free(t);
            return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                             "%s: cannot allocate %lld floats (%.1f MiB)", fn, (long long)numel,
                             (double)numel * 4.0 / 1048576.0);
        }
    }
    tensor_view_init(t, ndim, shape, data);
    t->kind = kind;
    *out = t;
    return ALEXNET_OK;
}

alexnet_status alexnet_tensor_create(alexnet_tensor **out, int ndim, const int64_t *shape)
{
    return tensor_new("alexnet_tensor_create", out, ndim, shape, NULL, TENSOR_OWNED);
}

alexnet_status alexnet_tensor_wrap(alexnet_tensor **out, int ndim, const int64_t *shape,
                                   float *data)
{
    static const char fn[] = "alexnet_tensor_wrap";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, data);
    if ((uintptr_t)data % alignof(float) != 0)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: 'data' is not aligned to %zu bytes as a float array must be", fn,
                         alignof(float));
    return tensor_new(fn, out, ndim, shape, data, TENSOR_WRAPPED);
}

void alexnet_tensor_free(alexnet_tensor *t)
{
    if (t == NULL || t->kind == TENSOR_BORROWED)
        return;
    if (t->kind == TENSOR_OWNED)
        memory_free(t->data);
    free(t);
}

int alexnet_tensor_ndim(const alexnet_tensor *t)
{
    return t == NULL ? 0 : t->ndim;
}

int64_t alexnet_tensor_dim(const alexnet_tensor *t, int axis)
{
    if (t == NULL)
        return -1;
    int a = axis < 0 ? axis + t->ndim : axis;
    return a < 0 || a >= t->ndim ? -1 : t->shape[a];
}

int64_t alexnet_tensor_numel(const alexnet_tensor *t)
{
    return t == NULL ? 0 : t->numel;
}

float *alexnet_tensor_data(alexnet_tensor *t)
{
    return t == NULL ? NULL : t->data;
}

void tensor_view_init(alexnet_tensor *view, int ndim, const int64_t *shape, float *data)
{
    memset(view, 0, sizeof *view);
    view->ndim = ndim;
    view->numel = 1;
    for (int i = 0; i < ndim; i++) {
        view->shape[i] = shape[i];
        view->numel *= shape[i];
    }
    view->data = data;
    view->kind = TENSOR_BORROWED;
}

bool tensor_shape_equals(const alexnet_tensor *t, int ndim, const int64_t *shape)
{
    if (t->ndim != ndim)
        return false;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i])
            return false;
    return true;
}

const char *tensor_shape_format(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used +=
            (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}
