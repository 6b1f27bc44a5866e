/* ReLU, in place: out = max(in, 0), with NaN passed through as PyTorch does so that a non-finite
 * loss is noticed. Backward needs only the output: the gradient passes where out > 0. */
#include "layer.h"
#include "parallel.h"

static void relu_forward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const float *in = call->in;
    float *out = call->out;
    for (int64_t i = begin; i < end; i++)
        out[i] = relu_value(in[i]);
}

static void relu_backward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const float *out = call->out, *dout = call->dout;
    float *din = call->din;
    for (int64_t i = begin; i < end; i++) {
        const float g = dout[i]; /* read unconditionally: a select vectorises, a branch would not */
        din[i] = out[i] > 0.0f ? g : 0.0f;
    }
}

static void relu_forward(const layer *l, const layer_call *call)
{
    if (l->relu.applied_by_previous) /* in place: the convolution wrote max(x, 0) already */
        return;
    parallel_run(call->parts, (int64_t)(shape_size(call->in_shape) * (size_t)call->batch),
                 relu_forward_range, (void *)call);
}

static void relu_backward(const layer *l, const layer_call *call)
{
    if (call->din == NULL || l->relu.masked_by_next) /* in place: din is dout, already masked */
        return;
    parallel_run(call->parts, (int64_t)(shape_size(call->in_shape) * (size_t)call->batch),
                 relu_backward_range, (void *)call);
}

const layer_ops relu_ops = {
    .output_shape = layer_same_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = layer_no_scratch,
    .forward = relu_forward,
    .backward = relu_backward,
    .in_place = true,
};
