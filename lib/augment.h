/* Shared pieces of augmentation (data only: nothing here runs a network): colour statistics and
 * ten-crop positions. */
#ifndef ALEXNET_AUGMENT_H
#define ALEXNET_AUGMENT_H

#include "alexnet/alexnet.h"

/* Running sums of RGB values and their products, for the colour PCA. */
typedef struct color_moments {
    double sum[3], products[3][3], count;
} color_moments;

void color_pca_accumulate(color_moments *m, const float *rgb, size_t plane);
alexnet_status color_pca_finish(const char *fn, const color_moments *m, alexnet_color_pca *pca);

/* Corners (top-left, top-right, bottom-left, bottom-right) and centre of crops of crop_h x crop_w
 * from an h x w image. */
void ten_crop_positions(int h, int w, int crop_h, int crop_w, int tops[5], int lefts[5]);

#endif
