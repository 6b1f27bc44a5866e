/* tanh, in place: the saturating nonlinearity the paper measures ReLU against (section 3.1,
 * Figure 1). Backward needs only the output: d tanh(x) / dx = 1 - tanh(x)^2. */
#include "layer.h"
#include "parallel.h"
#include "simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* tanh without libm's tanhf, which does not vectorise and made a tanh network train at a third of
 * a ReLU network's speed. Below |x| = 0.625 an odd polynomial x + x^3 q(x^2); above,
 * 1 - 2 / (e^2|x| + 1), with e^2|x| = 2^n 2^f built from n's exponent bits and a polynomial in f
 * in [-1/2, 1/2].
 * Both polynomials are least-squares fits of relative error (2e-8 and 5e-9), so the result is
 * within a few float ulps of tanh; from |x| = 10 it is ±1, as tanh is in float, and NaN stays NaN.
 * Branch-free and without calls, so the loop below vectorises. */
static inline float tanh_fast(float x)
{
    const float abs_x = fabsf(x);
    const float a = abs_x < 10.0f ? abs_x : 10.0f, z = a * a; /* NaN becomes 10 here */
    const float small =
        a + a * z *
                (-0.33333292603f +
                 z * (0.13331718743f +
                      z * (-0.05376379937f + z * (0.02072028071f + z * -0.00579810003f))));
    const float t = 2.8853900817779268f * a; /* 2|x| log2(e) */
    const int32_t n = (int32_t)(t + 0.5f);   /* t >= 0: rounds to nearest */
    const float f = t - (float)n;
    const float p =
        1.0f + f * (0.69314718246f +
                    f * (0.24022649229f +
                         f * (0.05550342426f +
                              f * (0.00961836521f + f * (0.00133946957f + f * 0.00015363368f)))));
    const int32_t bits = (n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float large = 1.0f - 2.0f / (p * scale + 1.0f);
    const float y = copysignf(a < 0.625f ? small : large, x);
    return x != x ? x : y;
}

SIMD_CLONES static void tanh_forward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const float *in = call->in;
    float *out = call->out;
    for (int64_t i = begin; i < end; i++)
        out[i] = tanh_fast(in[i]);
}

static void tanh_backward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    const float *out = call->out, *dout = call->dout;
    float *din = call->din;
    for (int64_t i = begin; i < end; i++)
        din[i] = dout[i] * (1.0f - out[i] * out[i]);
}

static void tanh_forward(const layer *l, const layer_call *call)
{
    (void)l;
    parallel_run(call->parts, (int64_t)(shape_size(call->in_shape) * (size_t)call->batch),
                 tanh_forward_range, (void *)call);
}

static void tanh_backward(const layer *l, const layer_call *call)
{
    (void)l;
    if (call->din == NULL)
        return;
    parallel_run(call->parts, (int64_t)(shape_size(call->in_shape) * (size_t)call->batch),
                 tanh_backward_range, (void *)call);
}

const layer_ops tanh_ops = {
    .output_shape = layer_same_shape,
    .aux_floats = layer_no_aux,
    .scratch_floats = layer_no_scratch,
    .forward = tanh_forward,
    .backward = tanh_backward,
    .in_place = true,
};
