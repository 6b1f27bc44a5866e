/* An LRN that runs the layers next to it image by image, so that the tensors between them never
 * leave the caches (lrn_fusion.c): the network's first convolution before it, when that is
 * computed directly (conv_plane.c) and followed by a ReLU (MINI's conv1 on grey images), and the
 * max pooling after it (MINI's pool1 and pool2). */
#ifndef ALEXNET_LRN_FUSION_H
#define ALEXNET_LRN_FUSION_H

#include "layer.h"

/* Whether the LRN `lrn`, whose input has shape `in`, can run the passes of the convolution `conv`
 * that is the network's first layer and is followed by a ReLU (conv.relu) and then `lrn`; or of
 * the max pooling right after it. The caller sets the flags (conv.run_by_lrn and
 * lrn.conv_before; pool.run_by_lrn and lrn.runs_pool). */
bool lrn_fusion_takes_conv(const layer *conv, const layer *lrn, shape in);
bool lrn_fusion_takes_pool(const layer *lrn, const layer *pool, shape in);

/* Whether the LRN runs either neighbour; then its scratch and passes are these. The call is the
 * LRN's: with the convolution, fused_in is the convolution's input and call->in is not used;
 * with the pooling, fused_out and fused_aux are the pooling's output and winners, call->out is
 * not used, and in backward call->dout is the gradient of the pooling's output. */
bool lrn_fusion_runs(const layer *lrn);
size_t lrn_fusion_scratch_floats(const layer *lrn, shape in, int parts, bool training);
void lrn_fusion_forward(const layer *lrn, const layer_call *call);
void lrn_fusion_backward(const layer *lrn, const layer_call *call);

#endif
