/* The tensor handle. Objects that hand out views of their own memory — a network's parameters and
 * gradients, a loader's current batch — keep those views (kind TENSOR_BORROWED) as plain structs
 * inside themselves, which is why the layout is visible inside the library. */
#ifndef ALEXNET_TENSOR_H
#define ALEXNET_TENSOR_H

#include "alexnet/alexnet.h"

#include <stdbool.h>

typedef enum tensor_kind {
    TENSOR_OWNED,   /* storage allocated here, released by alexnet_tensor_free        */
    TENSOR_WRAPPED, /* storage belongs to the caller; the handle alone is released   */
    TENSOR_BORROWED /* handle and storage belong to a network or loader; free ignores it */
} tensor_kind;

struct alexnet_tensor {
    int ndim;
    int64_t shape[ALEXNET_MAX_DIMS];
    int64_t numel;
    float *data;
    tensor_kind kind;
};

/* Checks ndim and every dimension, and computes the element count without overflow (also of the
 * byte count). `fn` names the public function in the message. */
alexnet_status tensor_shape_check(const char *fn, int ndim, const int64_t *shape, int64_t *numel);

/* Fills a borrowed view in place (the struct is the caller's; nothing is allocated). */
void tensor_view_init(alexnet_tensor *view, int ndim, const int64_t *shape, float *data);

/* True when the tensor has exactly this shape. */
bool tensor_shape_equals(const alexnet_tensor *t, int ndim, const int64_t *shape);

/* Writes "[a, b, c]" into buf, for messages. */
const char *tensor_shape_format(char *buf, size_t size, int ndim, const int64_t *shape);

#endif
