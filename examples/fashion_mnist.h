/* What the Fashion-MNIST example programs share: where Debian's dataset-fashion-mnist puts the
 * files, the class names, the pixel statistics, and scoring a batch of logits. */
#ifndef ALEXNET_EXAMPLES_FASHION_MNIST_H
#define ALEXNET_EXAMPLES_FASHION_MNIST_H

#include <alexnet/alexnet.h>

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Mean and standard deviation of the training images' pixels, in [0, 1]. */
#define FASHION_MNIST_MEAN 0.2860f
#define FASHION_MNIST_STD 0.3530f

static const char *const FASHION_MNIST_CLASSES[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Opens split "train" or "t10k" of the IDX files in `dir`, gzipped or not. */
static inline alexnet_status fashion_mnist_open(const char *dir, const char *split,
                                                alexnet_dataset **ds)
{
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    if (access(images, R_OK) != 0) { /* also take unpacked files */
        snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte", dir, split);
        snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte", dir, split);
    }
    return alexnet_dataset_open_idx(ds, images, labels);
}

/* For n rows of 10 logits: adds the misclassified rows to *wrong and returns the summed
 * cross-entropy (log-sum-exp taken from the largest logit, so it cannot overflow). */
static inline double fashion_mnist_score(const float *logits, const int32_t *labels, int64_t n,
                                         int64_t *wrong)
{
    double loss = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *z = logits + i * 10;
        int best = 0;
        for (int c = 1; c < 10; c++)
            best = z[c] > z[best] ? c : best;
        double sum = 0.0;
        for (int c = 0; c < 10; c++)
            sum += exp((double)z[c] - (double)z[best]);
        loss += log(sum) - ((double)z[labels[i]] - (double)z[best]);
        *wrong += best != labels[i];
    }
    return loss;
}

#endif
