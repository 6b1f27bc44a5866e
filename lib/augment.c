/* The paper's colour augmentation (section 4.1: PCA of RGB values) and the positions of the
 * ten test-time crops. Data only: predict.c runs the network on them. */
#include "augment.h"

#include "error.h"
#include "image.h"
#include "memory.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi rotations; eigenvalues sorted
 * in decreasing order, eigenvectors as the columns of v. */
static void symmetric_eigen3(double a[3][3], double values[3], double v[3][3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            v[i][j] = i == j;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off < 1e-15 * (fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]) + 1e-300))
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0.0)
                    continue;
                double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 3; k++) { /* a <- J^T a J */
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < 3; i++)
        values[i] = a[i][i];
    for (int i = 0; i < 2; i++) /* selection sort, decreasing, columns along */
        for (int j = i + 1; j < 3; j++)
            if (values[j] > values[i]) {
                double t = values[i];
                values[i] = values[j];
                values[j] = t;
                for (int k = 0; k < 3; k++) {
                    t = v[k][i];
                    v[k][i] = v[k][j];
                    v[k][j] = t;
                }
            }
}

void color_pca_accumulate(color_moments *m, const float *rgb, size_t plane)
{
    for (size_t p = 0; p < plane; p++) {
        double x[3] = {rgb[p], rgb[plane + p], rgb[2 * plane + p]};
        for (int i = 0; i < 3; i++) {
            m->sum[i] += x[i];
            for (int j = 0; j < 3; j++)
                m->products[i][j] += x[i] * x[j];
        }
    }
    m->count += (double)plane;
}

alexnet_status color_pca_finish(const char *fn, const color_moments *m, alexnet_color_pca *pca)
{
    if (m->count < 2)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: no pixels to fit the colour PCA to",
                         fn);
    double covariance[3][3], values[3], vectors[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            covariance[i][j] =
                m->products[i][j] / m->count - (m->sum[i] / m->count) * (m->sum[j] / m->count);
    symmetric_eigen3(covariance, values, vectors);
    for (int k = 0; k < 3; k++) {
        pca->eigenvalues[k] = (float)(values[k] > 0.0 ? values[k] : 0.0);
        for (int i = 0; i < 3; i++)
            pca->eigenvectors[i][k] = (float)vectors[i][k];
    }
    return ALEXNET_OK;
}

alexnet_status alexnet_color_pca_fit(alexnet_color_pca *pca, const alexnet_tensor *const *images,
                                     int count)
{
    static const char fn[] = "alexnet_color_pca_fit";
    CHECK_NOT_NULL(fn, pca);
    CHECK_NOT_NULL(fn, images);
    color_moments m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < count; i++) {
        int64_t planes = 0;
        int h = 0, w = 0;
        alexnet_status st = image_check(fn, "images[i]", images[i], false, &planes, &h, &w);
        if (st != ALEXNET_OK)
            return st;
        if (planes != 3)
            return error_set(ALEXNET_ERR_SHAPE, "%s: image %d has %lld channels; PCA needs RGB", fn,
                             i, (long long)planes);
        color_pca_accumulate(&m, images[i]->data, (size_t)h * w);
    }
    return color_pca_finish(fn, &m, pca);
}

alexnet_status alexnet_image_color_jitter(alexnet_tensor *image, const alexnet_color_pca *pca,
                                          const float alpha[3])
{
    static const char fn[] = "alexnet_image_color_jitter";
    CHECK_NOT_NULL(fn, pca);
    CHECK_NOT_NULL(fn, alpha);
    int64_t planes = 0;
    int h = 0, w = 0;
    alexnet_status st = image_check(fn, "image", image, false, &planes, &h, &w);
    if (st != ALEXNET_OK)
        return st;
    if (planes != 3)
        return error_set(ALEXNET_ERR_SHAPE, "%s: the image is grey; PCA jitter needs RGB", fn);
    for (int k = 0; k < 3; k++) {
        bool finite = isfinite(alpha[k]) && isfinite(pca->eigenvalues[k]);
        for (int r = 0; r < 3; r++)
            finite = finite && isfinite(pca->eigenvectors[r][k]);
        if (!finite)
            return error_set(ALEXNET_ERR_NUMERIC,
                             "%s: component %d has alpha %g, eigenvalue %g and an eigenvector "
                             "(%g, %g, %g); all must be finite",
                             fn, k, (double)alpha[k], (double)pca->eigenvalues[k],
                             (double)pca->eigenvectors[0][k], (double)pca->eigenvectors[1][k],
                             (double)pca->eigenvectors[2][k]);
    }
    image_color_jitter_into(image->data, (size_t)h * w, pca, alpha);
    return ALEXNET_OK;
}

void ten_crop_positions(int h, int w, int crop_h, int crop_w, int tops[5], int lefts[5])
{
    const int bottom = h - crop_h, right = w - crop_w;
    const int t[5] = {0, 0, bottom, bottom, bottom / 2};
    const int l[5] = {0, right, 0, right, right / 2};
    memcpy(tops, t, sizeof t);
    memcpy(lefts, l, sizeof l);
}
