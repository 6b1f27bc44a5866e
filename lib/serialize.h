/* Loading model files and checkpoints from a file image in memory: the public loaders read the
 * file (within alexnet_limits) and call these, and so can a fuzzer. */
#ifndef ALEXNET_SERIALIZE_H
#define ALEXNET_SERIALIZE_H

#include "alexnet/alexnet.h"

#include <stddef.h>
#include <stdint.h>

/* alexnet_network_load_weights over `size` bytes; `label` names them in messages. */
alexnet_status serialize_load_weights(const char *fn, const char *label, const uint8_t *bytes,
                                      size_t size, alexnet_network *net);

/* alexnet_network_load (opt NULL) or alexnet_checkpoint_load over `size` bytes. On failure *net
 * and *opt are left as they were (the public functions cleared them). */
alexnet_status serialize_load_model(const char *fn, const char *label, const uint8_t *bytes,
                                    size_t size, alexnet_network **net, alexnet_optimizer **opt);

#endif
