/* Preprocessing as data: a model records how its images are to be prepared (resize, centre crop,
 * channel order, scale, mean and std), and one call applies it. The presets are the two ways
 * published AlexNet weights were trained: torchvision's and Caffe's. */
#include "config_struct.h"
#include "error.h"
#include "image.h"
#include "network.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PREPROCESSING_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_preprocessing, std)

/* The mean pixel of Caffe's ilsvrc_2012_mean.binaryproto, B, G, R, as Caffe's own classification
 * example averages it. */
static const float CAFFE_MEAN_BGR[3] = {104.00698793f, 116.66876762f, 122.67891434f};
static const float IMAGENET_MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float IMAGENET_STD[3] = {0.229f, 0.224f, 0.225f};
enum { IMAGENET_RESIZE = 256 };

alexnet_status alexnet_preprocessing_init(alexnet_preprocessing *p, alexnet_preprocessing_kind kind)
{
    static const char fn[] = "alexnet_preprocessing_init";
    CHECK_NOT_NULL(fn, p);
    if ((unsigned)kind > ALEXNET_PREPROCESSING_CAFFE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: kind %d is unknown; use ALEXNET_PREPROCESSING_PLAIN, _IMAGENET or "
                         "_CAFFE",
                         fn, (int)kind);
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->scale = 1.0f;
    for (int c = 0; c < 3; c++)
        p->std[c] = 1.0f;
    if (kind == ALEXNET_PREPROCESSING_IMAGENET) {
        p->resize = ALEXNET_RESIZE_SHORTER;
        p->resize_side = IMAGENET_RESIZE;
        memcpy(p->mean, IMAGENET_MEAN, sizeof p->mean);
        memcpy(p->std, IMAGENET_STD, sizeof p->std);
    } else if (kind == ALEXNET_PREPROCESSING_CAFFE) {
        p->resize = ALEXNET_RESIZE_SQUARE;
        p->resize_side = IMAGENET_RESIZE;
        p->bgr = 1;
        p->scale = 255.0f;
        memcpy(p->mean, CAFFE_MEAN_BGR, sizeof p->mean);
    }
    return ALEXNET_OK;
}

alexnet_status preprocessing_resolve(const char *fn, const alexnet_preprocessing *p,
                                     alexnet_preprocessing *full)
{
    alexnet_status st =
        config_copy_in(fn, "alexnet_preprocessing", full, sizeof *full, p, PREPROCESSING_MIN_SIZE);
    if (st != ALEXNET_OK)
        return st;
    if ((unsigned)full->resize > ALEXNET_RESIZE_SQUARE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: preprocessing.resize is %d; it must be ALEXNET_RESIZE_NONE, "
                         "_SHORTER or _SQUARE",
                         fn, (int)full->resize);
    if (full->resize != ALEXNET_RESIZE_NONE &&
        (full->resize_side < 1 || full->resize_side > ALEXNET_MAX_SIDE))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: preprocessing.resize_side is %d; it must be 1 to %d", fn,
                         full->resize_side, ALEXNET_MAX_SIDE);
    if (full->bgr != 0 && full->bgr != 1)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: preprocessing.bgr is %d; it must be 0 or 1", fn, full->bgr);
    if (!(isfinite(full->scale) && full->scale > 0.0f))
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: preprocessing.scale is %g; it must be finite and above 0", fn,
                         (double)full->scale);
    for (int c = 0; c < 3; c++)
        if (!isfinite(full->mean[c]) || !(isfinite(full->std[c]) && full->std[c] > 0.0f))
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                             "%s: preprocessing channel %d has mean %g and std %g; both must be "
                             "finite and std above 0",
                             fn, c, (double)full->mean[c], (double)full->std[c]);
    return ALEXNET_OK;
}

void preprocessing_default(const alexnet_config *cfg, alexnet_preprocessing *p)
{
    const int side = cfg->in_height > cfg->in_width ? cfg->in_height : cfg->in_width;
    if (cfg->in_channels == 3) { /* 224 -> 256, as ImageNet models are tested */
        alexnet_preprocessing_init(p, ALEXNET_PREPROCESSING_IMAGENET);
        p->resize_side = side * 8 / 7;
    } else {
        alexnet_preprocessing_init(p, ALEXNET_PREPROCESSING_PLAIN);
        p->resize = ALEXNET_RESIZE_SHORTER;
        p->resize_side = side;
    }
}

alexnet_status alexnet_image_preprocess(alexnet_tensor **out, const alexnet_tensor *image,
                                        const alexnet_preprocessing *p, int height, int width)
{
    static const char fn[] = "alexnet_image_preprocess";
    CHECK_NOT_NULL(fn, out);
    *out = NULL;
    alexnet_preprocessing full;
    alexnet_status st = preprocessing_resolve(fn, p, &full);
    int64_t planes = 0;
    int h = 0, w = 0;
    if (st == ALEXNET_OK)
        st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    const int channels = (int)planes;
    if (full.bgr && channels != 3)
        return error_set(ALEXNET_ERR_SHAPE,
                         "%s: the preprocessing swaps RGB to BGR but the image is grey", fn);
    if ((height == 0) != (width == 0) || height < 0 || width < 0 || height > ALEXNET_MAX_SIDE ||
        width > ALEXNET_MAX_SIDE)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: the crop %dx%d must be 1 to %d per side, or 0x0 for none", fn, height,
                         width, ALEXNET_MAX_SIDE);
    int rh = h, rw = w;
    if (full.resize == ALEXNET_RESIZE_SHORTER)
        image_shorter_side_size(h, w, full.resize_side, &rh, &rw);
    else if (full.resize == ALEXNET_RESIZE_SQUARE)
        rh = rw = full.resize_side;
    alexnet_tensor *sized = NULL;
    if (rh != h || rw != w) /* resampling at the same size would still filter */
        st = alexnet_image_resize(&sized, image, rh, rw);
    if (st != ALEXNET_OK)
        return error_prefix(st, "%s", fn);
    const alexnet_tensor *from = sized ? sized : image;
    const int oh = height ? height : rh, ow = width ? width : rw;
    int64_t dims[3] = {channels, oh, ow};
    st = alexnet_tensor_create(out, 3, dims);
    if (st == ALEXNET_OK) {
        image_crop_into(from->data, channels, rh, rw, (rh - oh) / 2, (rw - ow) / 2, oh, ow,
                        (*out)->data);
        const size_t plane = (size_t)oh * ow;
        if (full.bgr) { /* R and B trade places */
            float *r = (*out)->data, *b = (*out)->data + 2 * plane;
            for (size_t i = 0; i < plane; i++) {
                const float t = r[i];
                r[i] = b[i];
                b[i] = t;
            }
        }
        image_normalize_planes((*out)->data, planes, channels, plane, full.scale, full.mean,
                               full.std);
    }
    alexnet_tensor_free(sized);
    return st == ALEXNET_OK ? st : error_prefix(st, "%s", fn);
}

alexnet_status alexnet_network_get_preprocessing(const alexnet_network *net,
                                                 alexnet_preprocessing *p)
{
    static const char fn[] = "alexnet_network_get_preprocessing";
    CHECK_NOT_NULL(fn, net);
    alexnet_preprocessing value;
    if (net->has_preprocessing)
        value = net->preprocessing;
    else
        preprocessing_default(&net->config, &value);
    return config_copy_out(fn, "alexnet_preprocessing", p, &value, sizeof value,
                           PREPROCESSING_MIN_SIZE);
}

alexnet_status alexnet_network_set_preprocessing(alexnet_network *net,
                                                 const alexnet_preprocessing *p)
{
    static const char fn[] = "alexnet_network_set_preprocessing";
    CHECK_NOT_NULL(fn, net);
    if (p == NULL) {
        net->has_preprocessing = false;
        return ALEXNET_OK;
    }
    alexnet_preprocessing full;
    alexnet_status st = preprocessing_resolve(fn, p, &full);
    if (st != ALEXNET_OK)
        return st;
    if (full.bgr && net->config.in_channels != 3)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "%s: BGR input asked of a network of %d input channel(s)", fn,
                         net->config.in_channels);
    net->preprocessing = full;
    net->has_preprocessing = true;
    return ALEXNET_OK;
}
