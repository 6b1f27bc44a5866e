/* A network's first convolution, computed directly (conv_plane.c), its ReLU and the LRN after
 * them, run image by image by the LRN layer so that the convolution's output and its gradient
 * never leave the caches (MINI's conv1, relu1 and lrn1 on grey images; see conv_lrn.c). */
#ifndef ALEXNET_CONV_LRN_H
#define ALEXNET_CONV_LRN_H

#include "layer.h"

/* Whether the LRN `lrn`, whose input has shape `in`, can run the passes of the convolution `conv`
 * that is the network's first layer and is followed by a ReLU (conv.relu) and then `lrn`. The
 * caller sets conv.run_by_lrn, lrn.conv_before and the ReLU's flags. */
bool conv_lrn_applies(const layer *conv, const layer *lrn, shape in);

/* The LRN layer's scratch and passes when lrn.conv_before > 0. The call is the LRN's, with
 * fused_in set to the convolution's input; call->in, call->din and the convolution's own output
 * are not used. */
size_t conv_lrn_scratch_floats(const layer *lrn, shape in, int parts, bool training);
void conv_lrn_forward(const layer *lrn, const layer_call *call);
void conv_lrn_backward(const layer *lrn, const layer_call *call);

#endif
