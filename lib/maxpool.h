/* Max pooling's per-image kernels (maxpool.c), for an LRN that pools its output while it is
 * still in the caches (lrn_fusion.c). */
#ifndef ALEXNET_MAXPOOL_H
#define ALEXNET_MAXPOOL_H

#include "layer.h"

/* One image of the pooling `call` (the pooling layer's own call): its input, [C][H][W], from
 * `in`; its output and, where call->aux is set, its winners written where the call puts that
 * image's. */
void maxpool_forward_image(const layer *l, const layer_call *call, int64_t image, const float *in);

/* One image's input gradient, [C][H][W], into `din`, from call->dout and call->aux. */
void maxpool_backward_image(const layer *l, const layer_call *call, int64_t image, float *din);

#endif
