/* Softmax cross-entropy, mean over the batch, with the max subtracted before exponentiating. */
#include "network.h"

#include <math.h>

double softmax_cross_entropy(const float *logits, const int32_t *labels, int batch, int classes,
                             float *dlogits)
{
    double total = 0.0;
    const float inv_batch = 1.0f / (float)batch;
    for (int n = 0; n < batch; n++) {
        const float *z = logits + (size_t)n * classes;
        float *d = dlogits + (size_t)n * classes;
        float max = z[0];
        for (int c = 1; c < classes; c++)
            max = z[c] > max ? z[c] : max;
        double sum = 0.0;
        for (int c = 0; c < classes; c++) {
            d[c] = expf(z[c] - max);
            sum += d[c];
        }
        const float inv_sum = (float)(1.0 / sum);
        for (int c = 0; c < classes; c++)
            d[c] = d[c] * inv_sum * inv_batch;
        d[labels[n]] -= inv_batch;
        total += log(sum) - (double)(z[labels[n]] - max);
    }
    return total / batch;
}
