/* The layer interface. A network is a list of layers (network.c); each layer kind lives in its own
 * file with its forward and backward side by side, and exposes a `layer_ops` table.
 *
 * A layer holds only what describes it — hyperparameters and pointers into the network's parameter
 * and gradient arenas. Everything that depends on a call (batch size, input size, activations,
 * what forward keeps for backward, scratch) comes in a `layer_call`, so that several callers could
 * one day share a layer's weights read-only. */
#ifndef ALEXNET_LAYER_H
#define ALEXNET_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The shape of one sample: channels x height x width. Fully connected layers use c = features and
 * h = w = 1, so a flattened feature map needs no copy. */
typedef struct shape {
    int c, h, w;
} shape;

static inline size_t shape_size(shape s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

typedef struct layer layer;

/* Everything one forward or backward call of one layer needs besides the layer itself. */
typedef struct layer_call {
    int batch;
    shape in_shape, out_shape;
    const float *in;   /* [batch, in_shape]                                             */
    float *out;        /* [batch, out_shape]; equals `in` for in-place layers            */
    const float *dout; /* backward: gradient of the loss w.r.t. out                    */
    float *din;        /* backward: gradient w.r.t. in, written; NULL when not needed   */
    float *aux;        /* what forward keeps for backward: aux_floats(...) * batch       */
    float *scratch;    /* scratch_floats(...) floats, which the layer divides among parts */
    int parts;         /* how many parallel parts the work may be split into            */
    bool training;
    uint64_t seed; /* randomness (dropout): the network's seed and forward step     */
    uint64_t step;
    int64_t first_sample; /* dropout: the batch's first sample in its global batch   */
    /* An LRN that runs its neighbours' passes (lrn_fusion.c): the convolution's input, the
     * pooling's output and winners, and where to write the shares of the call's time that the
     * convolution's and the pooling's work took (NULL when not profiling). */
    const float *fused_in;
    float *fused_out, *fused_aux;
    double *fused_shares;
} layer_call;

typedef struct layer_ops {
    /* Output shape for this input shape; false when the input is too small for the layer. */
    bool (*output_shape)(const layer *l, shape in, shape *out);
    /* Floats per sample kept from a training forward for backward (0 if none). */
    size_t (*aux_floats)(const layer *l, shape in, shape out);
    /* Scratch floats a call needs for a batch of up to `batch` split into `parts`, for a training
     * call or for inference only (0 if none); the layer lays out each part's share itself. */
    size_t (*scratch_floats)(const layer *l, shape in, shape out, int batch, int parts,
                             bool training);
    void (*forward)(const layer *l, const layer_call *call);
    /* Writes din (when not NULL) and, for layers with parameters, the parameter gradients. */
    void (*backward)(const layer *l, const layer_call *call);
    bool in_place; /* out may be the same buffer as in, and din as dout */
} layer_ops;

struct layer {
    const layer_ops *ops;
    char name[16]; /* "conv1", "relu1" (or "tanh1"), "lrn1", "pool1", "drop6", "fc6", ... */
    int index;     /* position in the network, which also names its random stream */
    union {
        struct {
            int in_channels, out_channels, kernel, stride, pad, groups;
            /* The ReLU that follows is applied here, as the output is written
             * (relu.applied_by_previous): one pass over the activations fewer. */
            bool relu;
            /* The LRN after this layer's ReLU runs this layer's passes inside its own, image by
             * image in the caches (lrn_fusion.c); this layer's own passes do nothing and its
             * output is not planned. */
            bool run_by_lrn;
        } conv;
        struct {
            int size;
            float alpha, beta, k;
            /* The input is a ReLU's output: backward applies that ReLU's mask (input > 0) to the
             * gradient it writes, whose elements it computes anyway, and the ReLU's backward
             * passes the gradient through (relu.masked_by_next), one pass over it fewer. */
            bool masks_relu;
            /* > 0: runs the passes of the convolution this many layers before it
             * (conv.run_by_lrn); runs_pool: those of the max pooling right after it
             * (pool.run_by_lrn), whose input, this layer's output, is then not planned. */
            int conv_before;
            bool runs_pool;
        } lrn;
        struct {
            bool applied_by_previous, masked_by_next; /* forward, backward done by neighbours */
        } relu;
        struct {
            int kernel, stride;
            int ceil;        /* output size rounded up, the last window clipped (Caffe) */
            bool run_by_lrn; /* the LRN before runs this layer's passes (lrn.runs_pool) */
        } pool;
        struct {
            int out_h, out_w;
        } adaptive;
        struct {
            int in_features, out_features;
        } linear;
        struct {
            float p;
        } dropout;
    };
    /* Parameter and gradient storage (NULL for layers without parameters). */
    float *weight, *bias, *dweight, *dbias;
};

extern const layer_ops conv_ops;
extern const layer_ops relu_ops;
extern const layer_ops tanh_ops;
extern const layer_ops lrn_ops;
extern const layer_ops maxpool_ops;
extern const layer_ops adaptive_avgpool_ops;
extern const layer_ops linear_ops;
extern const layer_ops dropout_ops;

/* Number of weight floats of a conv or linear layer (bias count is the output count). */
size_t layer_weight_floats(const layer *l);
size_t layer_bias_floats(const layer *l);

/* The sum of n floats, kept in 16 interleaved partial sums that are combined in a fixed order at
 * the end: it vectorises where one running sum, whose additions wait on each other, cannot (bias
 * gradients are sums of whole maps), and its rounding depends only on n. */
float layer_sum(const float *x, size_t n);

/* max(v, 0), with NaN passed through as PyTorch does so that a non-finite loss is noticed: ReLU's
 * forward, whether the ReLU layer or a convolution's output (conv.relu) applies it. */
static inline float relu_value(float v)
{
    return v < 0.0f ? 0.0f : v;
}

/* For layer kinds that keep nothing for backward, or need no scratch. */
size_t layer_no_aux(const layer *l, shape in, shape out);
size_t layer_no_scratch(const layer *l, shape in, shape out, int batch, int parts, bool training);

/* The shape is unchanged (element-wise layers). */
bool layer_same_shape(const layer *l, shape in, shape *out);

#endif
