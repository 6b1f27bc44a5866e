/* Inverted dropout: at training time each element is kept with probability 1 - p and scaled by
 * 1 / (1 - p), so inference is the identity. The keep/drop draw for element i of a batch comes from
 * the counter-based generator at (seed, this layer and forward step, i): reproducible from the seed
 * whatever the thread count, and, with the batch's first sample in a global batch, the same on
 * every process of data-parallel training as on one process holding the whole batch. Forward keeps the mask (0 or the scale) for backward. */
#include "layer.h"
#include "parallel.h"
#include "rng.h"

#include <string.h>

static size_t dropout_aux_floats(const layer *l, shape in, shape out)
{
    (void)l, (void)out;
    return shape_size(in);
}

typedef struct dropout_job {
    const layer *l;
    const layer_call *call;
    uint64_t stream;
} dropout_job;

static void dropout_forward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const dropout_job *j = ctx;
    const float p = j->l->dropout.p, scale = 1.0f / (1.0f - p);
    const float *in = j->call->in;
    float *out = j->call->out, *mask = j->call->aux;
    /* Element i of this batch is element base + i of the global batch (data-parallel training:
     * this process holds samples from first_sample on), and one Philox call gives the four words
     * of global elements 4q .. 4q + 3. */
    const int64_t base = j->call->first_sample * (int64_t)shape_size(j->call->in_shape);
    for (int64_t q = (base + begin) / 4; q * 4 < base + end; q++) {
        uint32_t words[4];
        rng_bits(j->call->seed, j->stream, (uint64_t)q, words);
        for (int r = 0; r < 4; r++) {
            int64_t i = q * 4 + r - base;
            if (i < begin || i >= end)
                continue;
            float keep = rng_word_to_unit(words[r]) > p ? scale : 0.0f;
            mask[i] = keep;
            out[i] = in[i] * keep;
        }
    }
}

static void dropout_forward(const layer *l, const layer_call *call)
{
    const size_t count = shape_size(call->in_shape) * (size_t)call->batch;
    if (!call->training || l->dropout.p == 0.0f) {
        if (call->out != call->in)
            memcpy(call->out, call->in, sizeof(float) * count);
        if (call->aux)
            for (size_t i = 0; i < count; i++)
                call->aux[i] = 1.0f;
        return;
    }
    dropout_job j = {l, call,
                     RNG_STREAM(RNG_STREAM_DROPOUT, ((uint64_t)l->index << 40) | call->step)};
    parallel_run(call->parts, (int64_t)count, dropout_forward_range, &j);
}

static void dropout_backward_range(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const layer_call *call = ctx;
    for (int64_t i = begin; i < end; i++)
        call->din[i] = call->dout[i] * call->aux[i];
}

static void dropout_backward(const layer *l, const layer_call *call)
{
    (void)l;
    if (call->din == NULL)
        return;
    parallel_run(call->parts, (int64_t)(shape_size(call->in_shape) * (size_t)call->batch),
                 dropout_backward_range, (void *)call);
}

const layer_ops dropout_ops = {
    .output_shape = layer_same_shape,
    .aux_floats = dropout_aux_floats,
    .scratch_floats = layer_no_scratch,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .in_place = false,
};
