/* Inference helpers on top of the network: softmax probabilities, and the paper's test-time
 * ten-crop averaging (section 4.1). */
#include "augment.h"
#include "error.h"
#include "image.h"
#include "loss.h"
#include "network.h"
#include "tensor.h"

#include <math.h>
#include <string.h>

/* Softmax has no meaningful value for a NaN or infinite logit (and one infinity makes the others
 * NaN): such logits are refused rather than passed on as NaN probabilities. */
static alexnet_status check_finite(const char *fn, const char *what, const alexnet_tensor *logits)
{
    const int64_t classes = logits->shape[logits->ndim - 1];
    for (int64_t i = 0; i < logits->numel; i++)
        if (!isfinite(logits->data[i]))
            return error_set(ALEXNET_ERR_NUMERIC, "%s: %s [%lld, %lld] is %g; logits must be finite",
                             fn, what, (long long)(i / classes), (long long)(i % classes),
                             (double)logits->data[i]);
    return ALEXNET_OK;
}

alexnet_status alexnet_softmax(const alexnet_tensor *logits, alexnet_tensor *probabilities)
{
    static const char fn[] = "alexnet_softmax";
    CHECK_NOT_NULL(fn, logits);
    CHECK_NOT_NULL(fn, probabilities);
    if (logits->ndim != 2 || !tensor_shape_equals(probabilities, 2, logits->shape) ||
        logits->shape[1] > INT32_MAX)
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: logits and probabilities must both be [N, classes]", fn);
    alexnet_status st = check_finite(fn, "logit", logits);
    if (st != ALEXNET_OK)
        return st;
    softmax_rows(logits->data, logits->shape[0], (int)logits->shape[1], probabilities->data);
    return ALEXNET_OK;
}

alexnet_status alexnet_predict_ten_crop(alexnet_network *net, const alexnet_tensor *image,
                                        alexnet_tensor *probabilities)
{
    static const char fn[] = "alexnet_predict_ten_crop";
    CHECK_NOT_NULL(fn, net);
    CHECK_NOT_NULL(fn, probabilities);
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    const alexnet_config *cfg = &net->config;
    const int ch = cfg->in_height, cw = cfg->in_width, classes = cfg->num_classes;
    if (probabilities->numel != classes ||
        probabilities->shape[probabilities->ndim - 1] != classes) {
        char given[96];
        return error_set(
            ALEXNET_ERR_SHAPE,
            "%s: probabilities is %s; it must hold the %d classes ([%d] or [1, %d])", fn,
            tensor_shape_format(given, sizeof given, probabilities->ndim, probabilities->shape),
            classes, classes, classes);
    }
    if (planes != cfg->in_channels || h < ch || w < cw)
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: the image is %lldx%dx%d; ten-crop needs %d channels and at least "
                         "%dx%d pixels",
                         fn, (long long)planes, h, w, cfg->in_channels, ch, cw);
    int64_t batch_shape[4] = {10, planes, ch, cw}, logit_shape[2] = {10, classes};
    alexnet_tensor *batch = NULL, *logits = NULL;
    if ((st = alexnet_tensor_create(&batch, 4, batch_shape)) != ALEXNET_OK ||
        (st = alexnet_tensor_create(&logits, 2, logit_shape)) != ALEXNET_OK) {
        alexnet_tensor_free(batch);
        return error_prefix(st, "%s", fn);
    }
    int tops[5], lefts[5];
    ten_crop_positions(h, w, ch, cw, tops, lefts);
    const size_t crop = (size_t)planes * ch * cw;
    for (int k = 0; k < 5; k++) {
        image_crop_into(image->data, (int)planes, h, w, tops[k], lefts[k], ch, cw,
                        batch->data + (size_t)k * crop);
        memcpy(batch->data + (size_t)(k + 5) * crop, batch->data + (size_t)k * crop,
               sizeof(float) * crop);
        image_flip_planes(batch->data + (size_t)(k + 5) * crop, planes, ch, cw);
    }
    st = network_forward(fn, net, batch, logits, PASS_INFERENCE);
    if (st == ALEXNET_OK)
        st = check_finite(fn, "the network's logit for crop", logits);
    if (st == ALEXNET_OK) {
        softmax_rows(logits->data, 10, classes, logits->data);
        for (int c = 0; c < classes; c++) {
            double sum = 0.0;
            for (int k = 0; k < 10; k++)
                sum += logits->data[(size_t)k * classes + c];
            probabilities->data[c] = (float)(sum / 10.0);
        }
    }
    alexnet_tensor_free(batch);
    alexnet_tensor_free(logits);
    return st;
}
