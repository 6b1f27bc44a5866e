/* Softmax and the softmax cross-entropy loss: the network's last step in training, and what
 * inference uses to turn logits into probabilities. */
#ifndef ALEXNET_LOSS_H
#define ALEXNET_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* Row-wise softmax of logits [rows, classes] (out may equal logits). */
void softmax_rows(const float *logits, int64_t rows, int classes, float *out);

/* Mean softmax cross-entropy over the batch; writes d loss / d logits = (softmax - onehot) / N.
 * Labels must be valid. Returns the loss (non-finite when the logits are). */
double softmax_cross_entropy(const float *logits, const int32_t *labels, int batch, int classes,
                             float *dlogits);

#endif
