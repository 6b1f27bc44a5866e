/* Fully connected layer, out[N, O] = in[N, I] * W[O, I]^T + b, on OpenBLAS sgemm.
 * (cblas.h brings complex.h, whose macro I rules out one-letter names here.)
 * Parts split the output features (forward, weight and bias gradients) or the input features
 * (input gradient), in blocks of 16 so that each part's slice of W stays cache-line aligned; no
 * part needs another's result, so nothing is reduced. */
#include "layer.h"
#include "parallel.h"

#include <cblas.h>

/* Up to this batch the forward streams the weights once per image (sgemv) instead of packing
 * them for sgemm, which copies the whole matrix first: at batch 1 that copy doubled the time of
 * fc6-fc8, whose 234 MB of weights make inference on one image memory-bound. */
enum { LINEAR_BLOCK = 16, LINEAR_GEMV_BATCH = 2 };

static bool linear_output_shape(const layer *l, shape in, shape *out)
{
    if (shape_size(in) != (size_t)l->linear.in_features)
        return false;
    *out = (shape){l->linear.out_features, 1, 1};
    return true;
}

typedef struct linear_job {
    const layer *l;
    const layer_call *call;
    int blocks_of; /* the feature count that blocks cover */
} linear_job;

static void block_span(const linear_job *j, int64_t begin, int64_t end, int *first, int *count)
{
    int64_t a = begin * LINEAR_BLOCK, b = end * LINEAR_BLOCK;
    if (b > j->blocks_of)
        b = j->blocks_of;
    *first = (int)a;
    *count = (int)(b - a);
}

static void linear_forward_features(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const linear_job *j = ctx;
    const layer *l = j->l;
    const int batch = j->call->batch, inputs = l->linear.in_features,
              outputs = l->linear.out_features;
    int o0, count;
    block_span(j, begin, end, &o0, &count);
    const float *w = l->weight + (size_t)o0 * inputs;
    if (batch <= LINEAR_GEMV_BATCH) {
        for (int n = 0; n < batch; n++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, count, inputs, 1.0f, w, inputs,
                        j->call->in + (size_t)n * inputs, 1, 0.0f,
                        j->call->out + (size_t)n * outputs + o0, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, count, inputs, 1.0f,
                    j->call->in, inputs, w, inputs, 0.0f, j->call->out + o0, outputs);
    }
    for (int n = 0; n < batch; n++) {
        float *row = j->call->out + (size_t)n * outputs;
        for (int o = o0; o < o0 + count; o++)
            row[o] += l->bias[o];
    }
}

static void linear_backward_params(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const linear_job *j = ctx;
    const layer *l = j->l;
    const int batch = j->call->batch, inputs = l->linear.in_features,
              outputs = l->linear.out_features;
    int o0, count;
    block_span(j, begin, end, &o0, &count);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, count, inputs, batch, 1.0f,
                j->call->dout + o0, outputs, j->call->in, inputs, 0.0f,
                l->dweight + (size_t)o0 * inputs, inputs);
    float *dbias = l->dbias + o0; /* image by image, so that the loop over outputs vectorises */
    for (int o = 0; o < count; o++)
        dbias[o] = 0.0f;
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < count; o++)
            dbias[o] += j->call->dout[(size_t)n * outputs + o0 + o];
}

static void linear_backward_input(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const linear_job *j = ctx;
    const layer *l = j->l;
    const int batch = j->call->batch, inputs = l->linear.in_features,
              outputs = l->linear.out_features;
    int i0, count;
    block_span(j, begin, end, &i0, &count);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, count, outputs, 1.0f,
                j->call->dout, outputs, l->weight + i0, inputs, 0.0f, j->call->din + i0, inputs);
}

static int64_t blocks(int features)
{
    return (features + LINEAR_BLOCK - 1) / LINEAR_BLOCK;
}

static void linear_forward(const layer *l, const layer_call *call)
{
    linear_job j = {l, call, l->linear.out_features};
    parallel_run(call->parts, blocks(l->linear.out_features), linear_forward_features, &j);
}

static void linear_backward(const layer *l, const layer_call *call)
{
    linear_job j = {l, call, l->linear.out_features};
    parallel_run(call->parts, blocks(l->linear.out_features), linear_backward_params, &j);
    if (call->din == NULL)
        return;
    j.blocks_of = l->linear.in_features;
    parallel_run(call->parts, blocks(l->linear.in_features), linear_backward_input, &j);
}

const layer_ops linear_ops = {
    .output_shape = linear_output_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = layer_no_scratch,
    .forward = linear_forward,
    .backward = linear_backward,
    .in_place = false,
};
