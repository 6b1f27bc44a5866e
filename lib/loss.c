/* Softmax and the softmax cross-entropy loss, with the maximum subtracted before exponentiating. */
#include "loss.h"

#include <math.h>

/* p = softmax(z); returns log(sum_c exp(z_c)), the log-normaliser, in double. */
static double softmax_row(const float *z, int classes, float *p)
{
    float max = z[0];
    for (int c = 1; c < classes; c++)
        max = z[c] > max ? z[c] : max;
    double sum = 0.0;
    for (int c = 0; c < classes; c++) {
        p[c] = expf(z[c] - max);
        sum += p[c];
    }
    const float inv_sum = (float)(1.0 / sum);
    for (int c = 0; c < classes; c++)
        p[c] *= inv_sum;
    return log(sum) + (double)max;
}

void softmax_rows(const float *logits, int64_t rows, int classes, float *out)
{
    for (int64_t r = 0; r < rows; r++)
        softmax_row(logits + (size_t)r * classes, classes, out + (size_t)r * classes);
}

double softmax_cross_entropy(const float *logits, const int32_t *labels, int batch, int classes,
                             float *dlogits)
{
    double total = 0.0;
    const float inv_batch = 1.0f / (float)batch;
    for (int n = 0; n < batch; n++) {
        const float *z = logits + (size_t)n * classes;
        float *d = dlogits + (size_t)n * classes;
        total += softmax_row(z, classes, d) - (double)z[labels[n]];
        for (int c = 0; c < classes; c++)
            d[c] *= inv_batch;
        d[labels[n]] -= inv_batch;
    }
    return total / batch;
}
