/* The network: a list of layers (Darknet style), the parameters of all of them in one contiguous
 * arena (or mapped from a file, or read from another handle's: weights.h), their gradients in
 * another made when training starts (one allreduce can move them), and a plan of per-call buffers
 * made when a batch size is first seen. Parameters and per-call state are kept apart, so handles
 * that share the parameters each own only their plan. */
#ifndef ALEXNET_NETWORK_H
#define ALEXNET_NETWORK_H

#include "alexnet/alexnet.h"
#include "layer.h"
#include "tensor.h"
#include "weights.h"

enum { NETWORK_MAX_LAYERS = 32, NETWORK_MAX_PARAMS = 16 };

typedef struct network_param {
    char name[24];       /* canonical: conv1.weight                  */
    char torch_name[32]; /* torchvision: features.0.weight           */
    layer *owner;
    bool is_bias;
    size_t offset;              /* of its slice in the arena layout, in floats */
    alexnet_tensor value, grad; /* borrowed views: grad.data is NULL until training starts */
} network_param;

/* Where a pass spends its time, layer by layer: what the benchmark reports. Timing is off unless
 * the caller hands the network a profile to fill, so passes pay nothing for it. */
typedef struct network_layer_time {
    double forward_seconds, backward_seconds;
    int64_t forward_calls, backward_calls;
    int64_t forward_images, backward_images;
} network_layer_time;

typedef struct network_profile {
    network_layer_time layers[NETWORK_MAX_LAYERS];
} network_profile;

/* Buffers for one batch capacity and input size; all in one allocation. */
typedef struct network_plan {
    int capacity; /* 0: no plan yet */
    int in_h, in_w;
    int parts;
    bool training; /* aux and gradient buffers present */
    shape shapes[NETWORK_MAX_LAYERS + 1];
    float *act[NETWORK_MAX_LAYERS + 1]; /* act[0]: copy of the input (training only) */
    bool input_copy;                    /* act[0] is planned (a training pass that copies)  */
    const float *input;                 /* what backward reads as the input: act[0] or borrowed */
    float *aux[NETWORK_MAX_LAYERS];
    float *grad[2]; /* ping-pong gradients of activations */
    float *scratch;
    size_t scratch_floats;
    float *arena;
    size_t arena_floats;
} network_plan;

struct alexnet_network {
    alexnet_config config;
    uint64_t seed;
    int min_input; /* smallest input side the architecture accepts */
    int num_layers;
    layer layers[NETWORK_MAX_LAYERS];
    int num_params;
    network_param params[NETWORK_MAX_PARAMS];
    weights *weights;    /* NULL while only described */
    float *grads;        /* NULL until training starts */
    alexnet_tensor flat_values, flat_grads; /* alexnet_network_param_buffers' views */
    size_t param_floats; /* of the arena layout */
    bool is_share;       /* made by alexnet_network_share: inference only */
    network_plan plan;
    int batch;           /* of the last forward */
    bool backward_ready; /* the last forward was a training forward */
    uint64_t step;       /* training forwards so far: names the dropout draws */
    int64_t first_sample; /* alexnet_network_set_first_sample: this batch's place in a global one */
    char **class_names;  /* num_classes names, or NULL */
    network_profile *profile; /* per-layer times while profiling (network_set_profile), or NULL */
    alexnet_preprocessing preprocessing; /* how images are prepared, when has_preprocessing */
    bool has_preprocessing;
};

/* Checks a config (fields beyond cfg->struct_size take the arch's defaults) into `full`. */
alexnet_status network_config_resolve(const char *fn, const alexnet_config *cfg,
                                      alexnet_config *full);

/* Builds the layer list and the parameter table for a resolved config, without allocating the
 * arenas (architecture definitions: arch.c). */
alexnet_status arch_build(const char *fn, alexnet_network *net);

/* Architecture table lookups (arch.c). */
bool arch_valid(alexnet_arch arch);
const char *arch_name(alexnet_arch arch);
/* The architecture's name in files ("paper", "torchvision", "mini"), and back. */
const char *arch_key(alexnet_arch arch);
bool arch_from_key(const char *key, alexnet_arch *arch);
void arch_defaults(alexnet_config *cfg, alexnet_arch arch);

/* The smallest square input the architecture accepts. */
int arch_min_input(const alexnet_config *cfg);

/* Input sizes other than the configured one are accepted (adaptive pooling). */
bool arch_accepts_any_size(alexnet_arch arch);

/* The architecture has LRN layers, so the config's lrn_* fields matter. */
bool arch_has_lrn(alexnet_arch arch);

/* The config departs from what format 1 files can say (ceil pooling, another LRN): its file must
 * be written in format 2, which libalexnet 1.0 refuses instead of misreading. */
bool arch_uses_format_2(const alexnet_config *cfg);

/* Checks a preprocessing struct (fields beyond its struct_size are refused; preprocess.c). */
alexnet_status preprocessing_resolve(const char *fn, const alexnet_preprocessing *p,
                                     alexnet_preprocessing *full);

/* The preprocessing of a network that records none: ImageNet's for RGB, plain for grey. */
void preprocessing_default(const alexnet_config *cfg, alexnet_preprocessing *p);

/* Initial parameter values per the config's init scheme. */
void network_init_params(alexnet_network *net);

/* Finds a parameter by canonical or torchvision name; NULL when unknown. */
network_param *network_find_param(alexnet_network *net, const char *name);

/* How a forward pass treats its input. */
typedef enum network_pass_kind {
    PASS_INFERENCE,
    PASS_TRAINING,       /* keeps a copy of the input for backward: the caller may reuse it   */
    PASS_TRAINING_BORROW /* backward reads the caller's input, which outlives it (train step) */
} network_pass_kind;

/* The passes behind alexnet_network_forward/backward, with `fn` naming the public function in
 * messages; `logits` may be NULL (training steps do not need a copy). */
alexnet_status network_forward(const char *fn, alexnet_network *net, const alexnet_tensor *input,
                               alexnet_tensor *logits, network_pass_kind kind);
alexnet_status network_backward(const char *fn, alexnet_network *net, const int32_t *labels,
                                float *loss);
alexnet_status network_check_input(const char *fn, const alexnet_network *net,
                                   const alexnet_tensor *input);
alexnet_status network_check_labels(const char *fn, const alexnet_network *net,
                                    const int32_t *labels, int64_t batch);

/* Builds the network a config describes, with its layers and parameter shapes but no arenas
 * (parameter views have NULL data): enough to check a file against it before allocating. */
alexnet_status network_describe(const char *fn, alexnet_network **out, const alexnet_config *cfg,
                                uint64_t seed);

/* Allocates a described network's parameter arena; with init the parameters get their initial
 * values, without they are left undefined (a loader fills them). On failure the network stays
 * described. */
alexnet_status network_allocate(const char *fn, alexnet_network *net, bool init);

/* A heap arena in the network's layout whose padding is zero and whose parameters are left for
 * the caller to fill; NULL when out of memory. */
weights *network_blank_arena(const alexnet_network *net);

/* Makes `w` the storage of the network's parameters, releasing the old (the network takes the
 * reference). A heap arena is laid out as the network's; for mapped storage the caller points
 * each parameter view into the mapping first (`mapped_data`, one per parameter). */
void network_set_weights(alexnet_network *net, weights *w, float *const *mapped_data);

/* ALEXNET_ERR_STATE, naming `fn`, when other handles read the parameters: the network is a share,
 * or shares of it are alive. */
alexnet_status network_check_unshared(const char *fn, const alexnet_network *net);

/* ALEXNET_ERR_STATE, naming `fn`, when the parameters may not change: they are shared
 * (network_check_unshared) or mapped from a file. */
alexnet_status network_check_writable(const char *fn, const alexnet_network *net);

/* What training needs before its first step: writable parameters and the gradient arena,
 * allocated on first use (ALEXNET_ERR_OUT_OF_MEMORY, with nothing changed, when it cannot be). */
alexnet_status network_prepare_training(const char *fn, alexnet_network *net);

/* The heap arena of a writable network (after network_prepare_training succeeded). */
static inline float *network_values(const alexnet_network *net)
{
    return net->weights->arena;
}

/* The number of parameter values (without the arena's alignment padding). */
int64_t network_param_count(const alexnet_network *net);

/* Creates a network: network_describe then network_allocate. */
alexnet_status network_new(const char *fn, alexnet_network **out, const alexnet_config *cfg,
                           uint64_t seed, bool init);

#endif
