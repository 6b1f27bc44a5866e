/* Forward and backward passes over the layer list, and the memory plan they run in.
 *
 * The plan holds every activation, what each layer keeps for backward, two ping-pong buffers for
 * activation gradients, and per-part scratch, in one allocation made when a batch size (or input
 * size, or thread count) is first seen. It only grows — a smaller batch reuses it — so alternating
 * training and evaluation batches never reallocate. In-place layers (ReLU) share their input's
 * buffer, and their input gradient shares the output gradient's. */
#include "error.h"
#include "memory.h"
#include "network.h"
#include "loss.h"
#include "lrn_fusion.h"
#include "parallel.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>

enum { MAX_BATCH = 1 << 20 };

typedef struct plan_layout {
    size_t total;
} plan_layout;

static size_t reserve(plan_layout *layout, size_t floats)
{
    size_t at = layout->total;
    layout->total += memory_round_floats(floats);
    return at;
}

/* Whether the layer is an LRN that runs its neighbours' passes (lrn_fusion.c). */
static bool runs_neighbours(const layer *l)
{
    return l->ops == &lrn_ops && lrn_fusion_runs(l);
}

/* Whether the layer's passes are run by the LRN next to it; the gradient of its output, where it
 * has one, stays where it is as if the layer worked in place. */
static bool run_by_lrn(const layer *l)
{
    return (l->ops == &conv_ops && l->conv.run_by_lrn) ||
           (l->ops == &maxpool_ops && l->pool.run_by_lrn);
}

/* Whether the layer's output is only read inside an LRN's fused passes, and so is not planned. */
static bool output_stays_in_cache(const layer *l)
{
    return (l->ops == &conv_ops && l->conv.run_by_lrn) || (l->ops == &lrn_ops && l->lrn.runs_pool);
}

/* Whether backward writes the gradient of layer i's input: not for the network's input, and not
 * between an LRN and the neighbours it runs, where gradients stay in the caches. */
static bool input_gradient_needed(const alexnet_network *net, int i)
{
    if (i == 0 || run_by_lrn(&net->layers[i]))
        return false;
    for (int j = i; j < net->num_layers; j++) {
        const layer *l = &net->layers[j];
        if (runs_neighbours(l) && j - l->lrn.conv_before < i)
            return false;
    }
    return true;
}

/* The gradient buffer that layer i writes its input's gradient to, when its output's is in
 * `current`. */
static int gradient_buffer(const alexnet_network *net, int i, int current)
{
    const layer *l = &net->layers[i];
    return l->ops->in_place || run_by_lrn(l) ? current : 1 - current;
}

/* The buffers of the neighbours that layer i runs (lrn_fusion.h); `input` is the network's. */
static void set_fused_buffers(const alexnet_network *net, int i, const float *input,
                              layer_call *call)
{
    const layer *l = &net->layers[i];
    if (!runs_neighbours(l))
        return;
    if (l->lrn.conv_before > 0) {
        const int first = i - l->lrn.conv_before;
        call->fused_in = first == 0 ? input : net->plan.act[first];
    }
    if (l->lrn.runs_pool) {
        call->fused_out = net->plan.act[i + 2];
        call->fused_aux = net->plan.aux[i + 1];
    }
}

/* The floats each of the two ping-pong gradient buffers must hold: backward walks the layers in
 * reverse, each reading its output's gradient from one buffer and writing its input's to the
 * other (or to the same one, in place), so each buffer is sized for what lands in it only. */
static void gradient_sizes(const alexnet_network *net, const shape *shapes, size_t sizes[2])
{
    int current = 0;
    sizes[0] = shape_size(shapes[net->num_layers]);
    sizes[1] = 0;
    for (int i = net->num_layers - 1; i > 0; i--) {
        const int next = gradient_buffer(net, i, current);
        const size_t din = input_gradient_needed(net, i) ? shape_size(shapes[i]) : 0;
        sizes[next] = din > sizes[next] ? din : sizes[next];
        current = next;
    }
}

static alexnet_status plan_for(alexnet_network *net, const char *fn, int batch, int h, int w,
                               network_pass_kind kind)
{
    network_plan *old = &net->plan;
    const int parts = parallel_parts();
    const bool training = kind != PASS_INFERENCE, input_copy = kind == PASS_TRAINING;
    const bool same_input = old->capacity > 0 && old->in_h == h && old->in_w == w;
    if (same_input && old->capacity >= batch && old->parts == parts &&
        (old->training || !training) && (old->input_copy || !input_copy))
        return ALEXNET_OK;

    network_plan p;
    memset(&p, 0, sizeof p);
    p.capacity = same_input && old->capacity > batch ? old->capacity : batch;
    p.training = training || (same_input && old->training);
    p.input_copy = input_copy || (same_input && old->input_copy);
    p.in_h = h;
    p.in_w = w;
    p.parts = parts;
    const size_t n = (size_t)p.capacity;
    const int L = net->num_layers;

    p.shapes[0] = (shape){net->config.in_channels, h, w};
    for (int i = 0; i < L; i++) {
        const layer *l = &net->layers[i];
        if (!l->ops->output_shape(l, p.shapes[i], &p.shapes[i + 1]))
            return error_set(ALEXNET_ERR_SHAPE, "%s: a %dx%d input is too small for %s (%s)", fn, h,
                             w, arch_name(net->config.arch), l->name);
    }

    /* First pass: offsets. SIZE_MAX marks "no buffer". */
    plan_layout layout = {0};
    size_t act_at[NETWORK_MAX_LAYERS + 1], aux_at[NETWORK_MAX_LAYERS], grad_at[2] = {0, 0};
    act_at[0] = p.input_copy ? reserve(&layout, n * shape_size(p.shapes[0])) : SIZE_MAX;
    for (int i = 0; i < L; i++) {
        const layer *l = &net->layers[i];
        const size_t out = shape_size(p.shapes[i + 1]);
        act_at[i + 1] = l->ops->in_place           ? act_at[i]
                        : output_stays_in_cache(l) ? SIZE_MAX
                                                   : reserve(&layout, n * out);
        size_t aux = p.training ? l->ops->aux_floats(l, p.shapes[i], p.shapes[i + 1]) : 0;
        aux_at[i] = aux ? reserve(&layout, n * aux) : SIZE_MAX;
        size_t scratch =
            l->ops->scratch_floats(l, p.shapes[i], p.shapes[i + 1], p.capacity, parts, p.training);
        p.scratch_floats = scratch > p.scratch_floats ? scratch : p.scratch_floats;
    }
    if (p.training) {
        size_t sizes[2];
        gradient_sizes(net, p.shapes, sizes);
        grad_at[0] = reserve(&layout, n * sizes[0]);
        grad_at[1] = reserve(&layout, n * sizes[1]);
    }
    size_t scratch_at = reserve(&layout, p.scratch_floats);

    p.arena = memory_alloc_aligned(layout.total * sizeof(float));
    if (p.arena == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate %.1f MiB of activations for a batch of %d", fn,
                         (double)layout.total * 4.0 / 1048576.0, p.capacity);
    for (int i = 0; i <= L; i++)
        p.act[i] = act_at[i] == SIZE_MAX ? NULL : p.arena + act_at[i];
    for (int i = 0; i < L; i++)
        p.aux[i] = aux_at[i] == SIZE_MAX ? NULL : p.arena + aux_at[i];
    if (p.training) {
        p.grad[0] = p.arena + grad_at[0];
        p.grad[1] = p.arena + grad_at[1];
    }
    p.scratch = p.arena + scratch_at;

    p.arena_floats = layout.total;
    memory_free(old->arena);
    *old = p;
    net->backward_ready = false; /* the kept activations are gone */
    return ALEXNET_OK;
}

static double pass_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs one layer's forward or backward, timing it when the network is being profiled. */
static void run_layer(const alexnet_network *net, int i, const layer_call *call, bool backward)
{
    const layer *l = &net->layers[i];
    if (net->profile == NULL) {
        (backward ? l->ops->backward : l->ops->forward)(l, call);
        return;
    }
    double shares[2] = {0.0, 0.0}; /* of the fused convolution and pooling */
    layer_call timed = *call;
    if (runs_neighbours(l))
        timed.fused_shares = shares;
    const double start = pass_clock();
    (backward ? l->ops->backward : l->ops->forward)(l, &timed);
    const double wall = pass_clock() - start;
    double seconds = wall;
    const int neighbour[2] = {i - l->lrn.conv_before, i + 1};
    for (int k = 0; k < 2; k++)
        if (shares[k] > 0.0) { /* a neighbour's share of the time goes to that neighbour */
            network_layer_time *t = &net->profile->layers[neighbour[k]];
            *(backward ? &t->backward_seconds : &t->forward_seconds) += wall * shares[k];
            seconds -= wall * shares[k];
        }
    network_layer_time *t = &net->profile->layers[i];
    if (backward) {
        t->backward_seconds += seconds;
        t->backward_calls++;
        t->backward_images += call->batch;
    } else {
        t->forward_seconds += seconds;
        t->forward_calls++;
        t->forward_images += call->batch;
    }
}

static layer_call layer_call_of(const alexnet_network *net, int i, int batch)
{
    const network_plan *p = &net->plan;
    layer_call call = {
        .batch = batch,
        .in_shape = p->shapes[i],
        .out_shape = p->shapes[i + 1],
        .in = p->act[i],
        .out = p->act[i + 1],
        .scratch = p->scratch,
        .parts = p->parts,
        .seed = net->seed,
        .step = net->step,
        .first_sample = net->first_sample,
    };
    return call;
}

static alexnet_status check_input(const char *fn, const alexnet_network *net,
                                  const alexnet_tensor *input, const alexnet_tensor *logits)
{
    const alexnet_config *cfg = &net->config;
    char got[128];
    const bool any_size = arch_accepts_any_size(cfg->arch);
    if (input->ndim != 4 || input->shape[1] != cfg->in_channels ||
        (any_size && (input->shape[2] < net->min_input || input->shape[3] < net->min_input)) ||
        (!any_size && (input->shape[2] != cfg->in_height || input->shape[3] != cfg->in_width))) {
        tensor_shape_format(got, sizeof got, input->ndim, input->shape);
        if (any_size)
            return error_set(ALEXNET_ERR_SHAPE,
                             "%s: input has shape %s; expected [N, %d, H, W] with H, W >= %d", fn,
                             got, cfg->in_channels, net->min_input);
        return error_set(ALEXNET_ERR_SHAPE, "%s: input has shape %s; expected [N, %d, %d, %d]", fn,
                         got, cfg->in_channels, cfg->in_height, cfg->in_width);
    }
    if (input->shape[0] > MAX_BATCH || input->shape[2] > ALEXNET_MAX_SIDE ||
        input->shape[3] > ALEXNET_MAX_SIDE)
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: input shape [%lld, ...] exceeds the limits (batch %d, side %d)", fn,
                         (long long)input->shape[0], MAX_BATCH, ALEXNET_MAX_SIDE);
    if (logits && (logits->ndim != 2 || logits->shape[0] != input->shape[0] ||
                   logits->shape[1] != cfg->num_classes)) {
        tensor_shape_format(got, sizeof got, logits->ndim, logits->shape);
        return error_set(ALEXNET_ERR_SHAPE, "%s: logits have shape %s; expected [%lld, %d]", fn,
                         got, (long long)input->shape[0], cfg->num_classes);
    }
    return ALEXNET_OK;
}

alexnet_status network_check_labels(const char *fn, const alexnet_network *net,
                                    const int32_t *labels, int64_t batch)
{
    CHECK_NOT_NULL(fn, labels);
    const int classes = net->config.num_classes;
    for (int64_t n = 0; n < batch; n++)
        if (labels[n] < 0 || labels[n] >= classes)
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                             "%s: label %lld of the batch is %d; labels must be in [0, %d)", fn,
                             (long long)n, (int)labels[n], classes);
    return ALEXNET_OK;
}

alexnet_status network_check_input(const char *fn, const alexnet_network *net,
                                   const alexnet_tensor *input)
{
    CHECK_NOT_NULL(fn, input);
    return check_input(fn, net, input, NULL);
}

alexnet_status alexnet_network_forward(alexnet_network *net, const alexnet_tensor *input,
                                       alexnet_tensor *logits, int training)
{
    static const char fn[] = "alexnet_network_forward";
    CHECK_NOT_NULL(fn, logits);
    return network_forward(fn, net, input, logits, training ? PASS_TRAINING : PASS_INFERENCE);
}

alexnet_status network_forward(const char *fn, alexnet_network *net, const alexnet_tensor *input,
                               alexnet_tensor *logits, network_pass_kind kind)
{
    const bool training = kind != PASS_INFERENCE;
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, input);
    alexnet_status st = check_input(fn, net, input, logits);
    if (st != ALEXNET_OK)
        return st;
    const int batch = (int)input->shape[0];
    const int h = (int)input->shape[2], w = (int)input->shape[3];
    if (training && (st = network_prepare_training(fn, net)) != ALEXNET_OK)
        return st;
    if ((st = plan_for(net, fn, batch, h, w, kind)) != ALEXNET_OK)
        return st;
    network_plan *p = &net->plan;
    const float *x = input->data;
    if (kind == PASS_TRAINING) { /* backward needs the input after the caller may reuse it */
        memcpy(p->act[0], x, sizeof(float) * (size_t)input->numel);
        x = p->act[0];
    }
    p->input = x;
    for (int i = 0; i < net->num_layers; i++) {
        layer_call call = layer_call_of(net, i, batch);
        if (i == 0)
            call.in = x;
        set_fused_buffers(net, i, x, &call);
        call.training = training != 0;
        call.aux = training ? p->aux[i] : NULL;
        run_layer(net, i, &call, false);
    }
    if (logits)
        memcpy(logits->data, p->act[net->num_layers],
               sizeof(float) * (size_t)batch * (size_t)net->config.num_classes);
    net->batch = batch;
    net->backward_ready = training != 0;
    if (training)
        net->step++;
    return ALEXNET_OK;
}

alexnet_status alexnet_network_backward(alexnet_network *net, const int32_t *labels, float *loss)
{
    return network_backward("alexnet_network_backward", net, labels, loss);
}

alexnet_status network_backward(const char *fn, alexnet_network *net, const int32_t *labels,
                                float *loss)
{
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, labels);
    if (!net->backward_ready)
        return error_set(ALEXNET_ERR_STATE,
                         "%s: there is no training forward to differentiate; call "
                         "alexnet_network_forward with training != 0 first",
                         fn);
    const int batch = net->batch, classes = net->config.num_classes;
    alexnet_status st = network_check_labels(fn, net, labels, batch);
    if (st != ALEXNET_OK)
        return st;
    network_plan *p = &net->plan;
    const int L = net->num_layers;
    double value = softmax_cross_entropy(p->act[L], labels, batch, classes, p->grad[0]);
    if (loss)
        *loss = (float)value;
    if (!isfinite(value))
        return error_set(ALEXNET_ERR_NUMERIC,
                         "%s: the loss is %g: the logits hold NaN or infinity (check the input, "
                         "the weights and the learning rate); no gradient was written",
                         fn, value);
    int current = 0; /* grad[current] holds d loss / d act[i + 1] */
    for (int i = L - 1; i >= 0; i--) {
        layer_call call = layer_call_of(net, i, batch);
        const int next = gradient_buffer(net, i, current);
        call.training = true;
        call.aux = p->aux[i];
        call.dout = p->grad[current];
        if (i == 0)
            call.in = p->input;
        set_fused_buffers(net, i, p->input, &call);
        call.din = input_gradient_needed(net, i) ? p->grad[next] : NULL;
        run_layer(net, i, &call, true);
        current = next;
    }
    return ALEXNET_OK;
}
