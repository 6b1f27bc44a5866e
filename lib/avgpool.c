/* Adaptive average pooling to a fixed output size, with PyTorch's bins: output cell i covers
 * input [floor(i * in / out), ceil((i + 1) * in / out)). Bins overlap when in is not a multiple of
 * out, and an input smaller than the output repeats cells, both as torch.nn.AdaptiveAvgPool2d.
 * Work is split over (image, channel) planes. */
#include "layer.h"
#include "parallel.h"

#include <string.h>

static inline int bin_start(int i, int in, int out)
{
    return (int)(((int64_t)i * in) / out);
}

static inline int bin_end(int i, int in, int out)
{
    return (int)(((int64_t)(i + 1) * in + out - 1) / out);
}

static bool adaptive_output_shape(const layer *l, shape in, shape *out)
{
    *out = (shape){in.c, l->adaptive.out_h, l->adaptive.out_w};
    return in.h >= 1 && in.w >= 1;
}

static void adaptive_forward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const int H = call->in_shape.h, W = call->in_shape.w;
    const int OH = call->out_shape.h, OW = call->out_shape.w;
    for (int64_t p = begin; p < end; p++) {
        const float *in = call->in + (size_t)p * H * W;
        float *out = call->out + (size_t)p * OH * OW;
        for (int oy = 0; oy < OH; oy++) {
            int y0 = bin_start(oy, H, OH), y1 = bin_end(oy, H, OH);
            for (int ox = 0; ox < OW; ox++) {
                int x0 = bin_start(ox, W, OW), x1 = bin_end(ox, W, OW);
                float sum = 0.0f;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        sum += in[y * W + x];
                out[oy * OW + ox] = sum / (float)((y1 - y0) * (x1 - x0));
            }
        }
    }
}

static void adaptive_backward_planes(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const int H = call->in_shape.h, W = call->in_shape.w;
    const int OH = call->out_shape.h, OW = call->out_shape.w;
    for (int64_t p = begin; p < end; p++) {
        float *din = call->din + (size_t)p * H * W;
        const float *dout = call->dout + (size_t)p * OH * OW;
        memset(din, 0, sizeof(float) * (size_t)H * W);
        for (int oy = 0; oy < OH; oy++) {
            int y0 = bin_start(oy, H, OH), y1 = bin_end(oy, H, OH);
            for (int ox = 0; ox < OW; ox++) {
                int x0 = bin_start(ox, W, OW), x1 = bin_end(ox, W, OW);
                float g = dout[oy * OW + ox] / (float)((y1 - y0) * (x1 - x0));
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        din[y * W + x] += g;
            }
        }
    }
}

static void adaptive_forward(const layer *l, const layer_call *call)
{
    (void)l;
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.c, adaptive_forward_planes,
                 (void *)call);
}

static void adaptive_backward(const layer *l, const layer_call *call)
{
    (void)l;
    if (call->din == NULL)
        return;
    parallel_run(call->parts, (int64_t)call->batch * call->in_shape.c, adaptive_backward_planes,
                 (void *)call);
}

const layer_ops adaptive_avgpool_ops = {
    .output_shape = adaptive_output_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = layer_no_scratch,
    .forward = adaptive_forward,
    .backward = adaptive_backward,
    .in_place = false,
};
