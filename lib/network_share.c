/* Handles that share one network's weights: each owns its layer list (whose parameter pointers
 * lead into the shared storage), its memory plan and its counters, and holds a reference to the
 * storage, so the weights live until the last handle reading them is freed, whichever that is. */
#include "config_struct.h"
#include "error.h"
#include "network.h"

#include <stdlib.h>
#include <string.h>

alexnet_status alexnet_network_share(alexnet_network **out, const alexnet_network *source)
{
    static const char fn[] = "alexnet_network_share";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    CHECK_NOT_NULL(fn, source);
    alexnet_network *net = calloc(1, sizeof *net);
    if (net == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate the network", fn);
    net->config = source->config;
    net->seed = source->seed;
    net->step = source->step;
    net->min_input = source->min_input;
    net->num_layers = source->num_layers;
    memcpy(net->layers, source->layers, sizeof net->layers);
    net->num_params = source->num_params;
    memcpy(net->params, source->params, sizeof net->params);
    net->param_floats = source->param_floats;
    for (int i = 0; i < net->num_layers; i++)
        net->layers[i].dweight = net->layers[i].dbias = NULL;
    for (int i = 0; i < net->num_params; i++) {
        network_param *p = &net->params[i];
        p->owner = &net->layers[p->owner - source->layers];
        p->grad.data = NULL;
    }
    net->preprocessing = source->preprocessing;
    net->has_preprocessing = source->has_preprocessing;
    net->is_share = true;
    net->weights = weights_retain(source->weights);
    if (source->class_names != NULL) {
        alexnet_status st = alexnet_network_set_class_names(
            net, (const char *const *)source->class_names, source->config.num_classes);
        if (st != ALEXNET_OK) {
            alexnet_network_free(net);
            return error_prefix(st, "%s: copying the class names", fn);
        }
    }
    *out = net;
    return ALEXNET_OK;
}

alexnet_status alexnet_network_memory(const alexnet_network *net, alexnet_memory_info *info)
{
    static const char fn[] = "alexnet_network_memory";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, info);
    alexnet_memory_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.weight_bytes = (int64_t)weights_bytes(net->weights);
    m.gradient_bytes = net->grads ? (int64_t)(net->param_floats * sizeof(float)) : 0;
    m.activation_bytes = (int64_t)(net->plan.arena_floats * sizeof(float));
    m.weight_readers = weights_readers(net->weights);
    m.weights_mapped = net->weights->mapping != NULL;
    return config_copy_out(fn, "alexnet_memory_info", info, &m, sizeof m,
                           CONFIG_SIZE_THROUGH(alexnet_memory_info, activation_bytes));
}
