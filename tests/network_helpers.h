/* Building small networks and batches for the suites that train and save them. */
#ifndef ALEXNET_NETWORK_HELPERS_H
#define ALEXNET_NETWORK_HELPERS_H

#include "test_helpers.h"

#include <stdint.h>

static inline alexnet_network *mini_network(int side, float dropout, uint64_t seed)
{
    alexnet_config cfg;
    ck_assert_ok(alexnet_config_init(&cfg, ALEXNET_ARCH_MINI));
    cfg.in_height = cfg.in_width = side;
    cfg.dropout = dropout;
    cfg.init = ALEXNET_INIT_HE;
    alexnet_network *net = NULL;
    ck_assert_ok(alexnet_network_create(&net, &cfg, seed));
    return net;
}

/* A deterministic, learnable batch: each image is noise plus a bright 3x3 patch whose place
 * (one of 10 on a 5 x 2 grid) is its label. */
static inline alexnet_tensor *labelled_batch(int n, int side, int32_t *labels, uint64_t salt)
{
    int64_t shape[4] = {n, 1, side, side};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 4, shape));
    float *d = alexnet_tensor_data(t);
    for (int i = 0; i < n; i++) {
        labels[i] = (int32_t)((i * 7 + salt) % 10);
        const int top = (labels[i] / 5) * (side / 2), left = (labels[i] % 5) * (side / 5);
        for (int p = 0; p < side * side; p++) {
            uint64_t h = (uint64_t)(i + 1) * 2654435761u + (uint64_t)p * 40503u + salt;
            float noise = (float)(h % 1000) / 1000.0f - 0.5f;
            int y = p / side - top, x = p % side - left;
            d[(size_t)i * side * side + p] =
                (y >= 0 && y < 3 && x >= 0 && x < 3 ? 2.0f : 0.0f) + 0.3f * noise;
        }
    }
    return t;
}

/* Sum of squares of all parameters, in double: changes when any weight changes. */
static inline double param_checksum(alexnet_network *net)
{
    double sum = 0.0;
    for (int i = 0; i < alexnet_network_param_count(net); i++) {
        alexnet_tensor *v = NULL;
        ck_assert_ok(alexnet_network_param(net, alexnet_network_param_name(net, i), &v, NULL));
        const float *d = alexnet_tensor_data(v);
        for (int64_t k = 0; k < alexnet_tensor_numel(v); k++)
            sum += (double)d[k] * d[k] * (double)(k % 7 + 1);
    }
    return sum;
}

/* True when every parameter of a and b is bit-identical. */
static inline int same_weights(alexnet_network *a, alexnet_network *b)
{
    if (alexnet_network_param_count(a) != alexnet_network_param_count(b))
        return 0;
    for (int i = 0; i < alexnet_network_param_count(a); i++) {
        const char *name = alexnet_network_param_name(a, i);
        alexnet_tensor *x = NULL, *y = NULL;
        ck_assert_ok(alexnet_network_param(a, name, &x, NULL));
        ck_assert_ok(alexnet_network_param(b, name, &y, NULL));
        if (alexnet_tensor_numel(x) != alexnet_tensor_numel(y) ||
            memcmp(alexnet_tensor_data(x), alexnet_tensor_data(y),
                   sizeof(float) * (size_t)alexnet_tensor_numel(x)) != 0)
            return 0;
    }
    return 1;
}

#endif
