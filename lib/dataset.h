/* Data sets: IDX arrays held in memory, or a folder tree of image files decoded on use. */
#ifndef ALEXNET_DATASET_H
#define ALEXNET_DATASET_H

#include "alexnet/alexnet.h"

#include <stdint.h>

typedef enum dataset_kind { DATASET_IDX, DATASET_FOLDER } dataset_kind;

struct alexnet_dataset {
    dataset_kind kind;
    int64_t count;
    int classes;
    char **class_names;
    int channels; /* of the images it yields */
    /* IDX: the whole files, and views into them */
    uint8_t *image_file, *label_file;
    const uint8_t *pixels, *labels;
    int height, width;
    /* folder: one path and label per sample */
    char **paths;
    int32_t *folder_labels;
};

/* Sample `index` as a new image [channels, H, W] in [0, 1] and its label. */
alexnet_status dataset_read(const char *fn, const alexnet_dataset *ds, int64_t index,
                            alexnet_tensor **image, int32_t *label);

#endif
