/* The data pipeline: decoding, preprocessing and augmentation, IDX and folder data sets, the
 * batch loader, and a short training run on Fashion-MNIST. */
#include "image_fixtures.h"
#include "network_helpers.h"

#include "augment.h"
#include "rng.h"

#include <dirent.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];

static void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/alexnet-data-XXXXXX", tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char child[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

static void remove_dir(void)
{
    remove_tree(dir);
}

static const char *in_dir(const char *name)
{
    static char path[4][512];
    static int which;
    which = (which + 1) % 4;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (size)
        ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static uint8_t *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*size + 1);
    ck_assert_uint_eq(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

/* A test pattern: distinct values per channel and position. */
static uint8_t *pattern(int w, int h, int c)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int i = 0; i < w * h; i++)
        for (int k = 0; k < c; k++)
            p[i * c + k] = (uint8_t)((i * 37 + k * 91 + 11) % 256);
    return p;
}

static float pixel(alexnet_tensor *t, int c, int y, int x)
{
    return alexnet_tensor_data(
        t)[((int64_t)c * alexnet_tensor_dim(t, 1) + y) * alexnet_tensor_dim(t, 2) + x];
}

/* ---- decoding ---------------------------------------------------------------------------- */

START_TEST(png_decodes_exactly_in_grey_rgb_and_rgba)
{
    const int w = 7, h = 5; /* odd sizes */
    for (int channels = 1; channels <= 4; channels++) {
        if (channels == 2)
            continue;
        uint8_t *p = pattern(w, h, channels);
        const char *path = in_dir("fixture.png");
        ck_assert(fixture_write_png(path, w, h, channels, p));
        alexnet_tensor *rgb = NULL, *grey = NULL;
        ck_assert_ok(alexnet_image_load(&rgb, path, 3));
        ck_assert_ok(alexnet_image_load(&grey, path, 1));
        ck_assert_int_eq(alexnet_tensor_dim(rgb, 0), 3);
        ck_assert_int_eq(alexnet_tensor_dim(rgb, 1), h);
        ck_assert_int_eq(alexnet_tensor_dim(rgb, 2), w);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *px = p + (y * w + x) * channels;
                for (int k = 0; k < 3; k++) { /* grey is replicated, alpha dropped */
                    float want = px[channels == 1 ? 0 : k] / 255.0f;
                    ck_assert_float_eq_tol(pixel(rgb, k, y, x), want, 1e-6f);
                }
                float luma = channels == 1 ? px[0] : (px[0] * 77 + px[1] * 150 + px[2] * 29) >> 8;
                ck_assert_float_eq_tol(pixel(grey, 0, y, x), luma / 255.0f, 1.01f / 255.0f);
            }
        alexnet_tensor_free(rgb);
        alexnet_tensor_free(grey);
        free(p);
    }
}
END_TEST

START_TEST(jpeg_decodes_close_to_the_original)
{
    const int w = 33, h = 17;
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++) /* smooth, so JPEG at quality 100 keeps it closely */
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                p[(y * w + x) * 3 + k] = (uint8_t)(40 + 4 * x + 3 * y + 20 * k);
    const char *path = in_dir("fixture.jpg");
    ck_assert(fixture_write_jpg(path, w, h, 3, p, 100));
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_image_load(&t, path, 3));
    double worst = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                worst = fmax(worst, fabs(pixel(t, k, y, x) - p[(y * w + x) * 3 + k] / 255.0));
    ck_assert_msg(worst < 8.0 / 255.0, "JPEG round trip off by %g", worst * 255);
    /* From memory too. */
    size_t size;
    uint8_t *bytes = read_bytes(path, &size);
    alexnet_tensor *m = NULL;
    ck_assert_ok(alexnet_image_decode(&m, bytes, size, 3));
    ck_assert_mem_eq(alexnet_tensor_data(m), alexnet_tensor_data(t),
                     sizeof(float) * (size_t)alexnet_tensor_numel(t));
    free(bytes);
    free(p);
    alexnet_tensor_free(t);
    alexnet_tensor_free(m);
}
END_TEST

/* A PNG whose header claims width x height (stb_image does not check CRCs). */
static void write_png_header(const char *path, uint32_t width, uint32_t height)
{
    uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,   0,   0,   13, 'I', 'H', 'D',
                     'R',  0,   0,   0,   0,    0,    0,    0,    0,   8,   2,   0,  0,   0,   0,
                     0,    0,   0,   0,   0,    0,    0,    'I',  'D', 'A', 'T', 0,  0,   0,   0};
    for (int i = 0; i < 4; i++) {
        png[16 + i] = (uint8_t)(width >> (24 - 8 * i));
        png[20 + i] = (uint8_t)(height >> (24 - 8 * i));
    }
    write_bytes(path, png, sizeof png);
}

START_TEST(hostile_images_are_clear_errors)
{
    alexnet_tensor *t = (alexnet_tensor *)&t;
    const int w = 40, h = 30;
    uint8_t *p = pattern(w, h, 3);
    char png[512], jpg[512]; /* in_dir's buffers are reused below */
    snprintf(png, sizeof png, "%s", in_dir("good.png"));
    snprintf(jpg, sizeof jpg, "%s", in_dir("good.jpg"));
    ck_assert(fixture_write_png(png, w, h, 3, p));
    ck_assert(fixture_write_jpg(jpg, w, h, 3, p, 90));
    size_t png_size, jpg_size;
    uint8_t *png_bytes = read_bytes(png, &png_size), *jpg_bytes = read_bytes(jpg, &jpg_size);

    write_bytes(in_dir("half.png"), png_bytes, png_size / 2);
    ck_assert_fails(alexnet_image_load(&t, in_dir("half.png"), 3), ALEXNET_ERR_FORMAT,
                    "half.png': the PNG data is damaged or truncated");
    ck_assert_ptr_null(t);
    write_bytes(in_dir("half.jpg"), jpg_bytes, jpg_size / 2);
    alexnet_status st = alexnet_image_load(&t, in_dir("half.jpg"), 3);
    /* stb_image fills a JPEG cut short with grey, as libjpeg does; either outcome is safe. */
    if (st != ALEXNET_OK)
        ck_assert_ptr_nonnull(strstr(alexnet_last_error(), "half.jpg"));
    alexnet_tensor_free(t);
    write_bytes(in_dir("stub.jpg"), jpg_bytes, 20);
    ck_assert_fails(alexnet_image_load(&t, in_dir("stub.jpg"), 3), ALEXNET_ERR_FORMAT,
                    "stub.jpg': the JPEG");
    write_bytes(in_dir("empty.png"), "", 0);
    ck_assert_fails(alexnet_image_load(&t, in_dir("empty.png"), 3), ALEXNET_ERR_FORMAT,
                    "neither a PNG nor a JPEG image (it is empty)");
    const char text[] = "this is not a picture\n";
    write_bytes(in_dir("text.jpg"), text, sizeof text - 1);
    ck_assert_fails(alexnet_image_load(&t, in_dir("text.jpg"), 3), ALEXNET_ERR_FORMAT,
                    "text.jpg' is neither a PNG nor a JPEG image");
    write_png_header(in_dir("huge.png"), 100000, 100000);
    ck_assert_fails(alexnet_image_load(&t, in_dir("huge.png"), 3), ALEXNET_ERR_FORMAT,
                    "claims 100000x100000 pixels; images are limited to 16384 per side");
    write_png_header(in_dir("big.png"), 16000, 16000); /* each side fine, the total is not */
    ck_assert_fails(alexnet_image_load(&t, in_dir("big.png"), 3), ALEXNET_ERR_FORMAT,
                    "claims 16000x16000 pixels");
    /* Corrupt compressed data in the middle. */
    for (size_t i = png_size / 2; i < png_size / 2 + 16; i++)
        png_bytes[i] ^= 0x5a;
    ck_assert_fails(alexnet_image_decode(&t, png_bytes, png_size, 3), ALEXNET_ERR_FORMAT,
                    "image data': the PNG data is damaged");
    ck_assert_fails(alexnet_image_load(&t, in_dir("absent.png"), 3), ALEXNET_ERR_IO,
                    "absent.png': No such file");
    ck_assert_fails(alexnet_image_load(&t, png, 2), ALEXNET_ERR_INVALID_ARGUMENT, "channels is 2");
    ck_assert_fails(alexnet_image_decode(&t, NULL, 3, 3), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'data' is NULL");
    free(png_bytes);
    free(jpg_bytes);
    free(p);
}
END_TEST

/* ---- preprocessing ------------------------------------------------------------------------- */

static alexnet_tensor *numbered_image(int c, int h, int w)
{
    int64_t shape[3] = {c, h, w};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 3, shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(t); i++)
        alexnet_tensor_data(t)[i] = (float)(i + 1);
    return t;
}

START_TEST(crops_flips_and_normalisation_are_exact)
{
    alexnet_tensor *image = numbered_image(3, 4, 5), *crop = NULL; /* checked: 2 channels */
    ck_assert_ok(alexnet_image_crop(&crop, image, 1, 2, 2, 3));
    const float want[] = {8, 9, 10, 13, 14, 15, 28, 29, 30, 33, 34, 35};
    ck_assert_mem_eq(alexnet_tensor_data(crop), want, sizeof want);
    alexnet_tensor_free(crop);
    /* A window past the edges reads zeros: padding and cropping in one. */
    ck_assert_ok(alexnet_image_crop(&crop, image, -1, 3, 3, 3));
    const float padded[] = {0, 0, 0, 4, 5, 0, 9, 10, 0, 0, 0, 0, 24, 25, 0, 29, 30, 0};
    ck_assert_mem_eq(alexnet_tensor_data(crop), padded, sizeof padded);
    alexnet_tensor_free(crop);

    ck_assert_ok(alexnet_image_flip(image));
    const float flipped[] = {5, 4, 3, 2, 1, 10, 9, 8, 7, 6};
    ck_assert_mem_eq(alexnet_tensor_data(image), flipped, sizeof flipped);
    ck_assert_float_eq(alexnet_tensor_data(image)[20], 25.0f);
    ck_assert_ok(alexnet_image_flip(image));

    const float mean[3] = {1.0f, 20.0f, 0.0f}, std[3] = {2.0f, 4.0f, 1.0f};
    ck_assert_ok(alexnet_image_normalize(image, mean, std));
    ck_assert_float_eq(alexnet_tensor_data(image)[0], 0.0f);
    ck_assert_float_eq(alexnet_tensor_data(image)[19], 9.5f);
    ck_assert_float_eq(alexnet_tensor_data(image)[20], 0.25f);
    const float zero_std[3] = {1.0f, 0.0f, 1.0f};
    ck_assert_fails(alexnet_image_normalize(image, mean, zero_std), ALEXNET_ERR_INVALID_ARGUMENT,
                    "channel 1 has mean 20 and std 0");
    int64_t bad_shape[2] = {4, 4};
    alexnet_tensor *bad = NULL;
    ck_assert_ok(alexnet_tensor_create(&bad, 2, bad_shape));
    ck_assert_fails(alexnet_image_flip(bad), ALEXNET_ERR_SHAPE, "has shape [4, 4]");
    alexnet_tensor_free(bad);
    alexnet_tensor_free(image);
}
END_TEST

START_TEST(resizing_keeps_aspect_and_values)
{
    int64_t shape[3] = {3, 300, 400};
    alexnet_tensor *image = NULL, *out = NULL;
    ck_assert_ok(alexnet_tensor_create(&image, 3, shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(image); i++)
        alexnet_tensor_data(image)[i] = i < 120000 ? 0.25f : i < 240000 ? 0.5f : 0.75f;
    ck_assert_ok(alexnet_image_resize_shorter(&out, image, 256));
    ck_assert_int_eq(alexnet_tensor_dim(out, 1), 256);
    ck_assert_int_eq(alexnet_tensor_dim(out, 2), 341);
    for (int c = 0; c < 3; c++) /* a constant plane stays constant */
        ck_assert_float_eq_tol(pixel(out, c, 100, 200), 0.25f * (c + 1), 1e-5f);
    alexnet_tensor_free(out);
    ck_assert_ok(alexnet_image_resize(&out, image, 7, 9));
    ck_assert_int_eq(alexnet_tensor_numel(out), 3 * 7 * 9);
    alexnet_tensor_free(out);
    ck_assert_fails(alexnet_image_resize(&out, image, 0, 9), ALEXNET_ERR_INVALID_ARGUMENT, "0x9");
    alexnet_tensor_free(image);
}
END_TEST

START_TEST(png_round_trips_through_save)
{
    alexnet_tensor *image = numbered_image(3, 6, 5), *back = NULL;
    for (int64_t i = 0; i < alexnet_tensor_numel(image); i++)
        alexnet_tensor_data(image)[i] = (float)(i % 256) / 255.0f;
    ck_assert_ok(alexnet_image_save_png(image, in_dir("saved.png")));
    ck_assert_ok(alexnet_image_load(&back, in_dir("saved.png"), 3));
    for (int64_t i = 0; i < alexnet_tensor_numel(image); i++)
        ck_assert_float_eq_tol(alexnet_tensor_data(back)[i], alexnet_tensor_data(image)[i], 1e-6f);
    alexnet_tensor_free(image);
    alexnet_tensor_free(back);
}
END_TEST

/* ---- colour PCA ---------------------------------------------------------------------------- */

START_TEST(pca_recovers_a_known_colour_covariance)
{
    /* RGB = mean + A z with z ~ N(0, I): covariance A A^T, eigenvectors known by construction:
     * A = Q diag(s) with Q orthonormal gives eigenvalues s^2 along Q's columns. */
    const double q[3][3] = {{0.48, 0.60, 0.64}, {-0.80, 0.60, 0.00}, {-0.36, -0.48, 0.80}};
    const double sd[3] = {0.20, 0.08, 0.02};
    int64_t shape[3] = {3, 100, 100};
    alexnet_tensor *images[4];
    for (int k = 0; k < 4; k++) {
        ck_assert_ok(alexnet_tensor_create(&images[k], 3, shape));
        float *d = alexnet_tensor_data(images[k]);
        for (int p = 0; p < 10000; p++) {
            float z[4];
            rng_normal4(7, (uint64_t)k, (uint64_t)p, z);
            for (int c = 0; c < 3; c++) {
                double v = 0.5;
                for (int j = 0; j < 3; j++)
                    v += q[j][c] * sd[j] * z[j]; /* rows of q are the components */
                d[c * 10000 + p] = (float)v;
            }
        }
    }
    alexnet_color_pca pca;
    ck_assert_ok(alexnet_color_pca_fit(&pca, (const alexnet_tensor *const *)images, 4));
    for (int j = 0; j < 3; j++) {
        ck_assert_double_eq_tol(pca.eigenvalues[j], sd[j] * sd[j], 0.05 * sd[j] * sd[j]);
        double dot = 0;
        for (int c = 0; c < 3; c++)
            dot += pca.eigenvectors[c][j] * q[j][c];
        ck_assert_msg(fabs(dot) > 0.99, "component %d: |cos| = %f", j, fabs(dot));
    }
    /* The jitter adds P (alpha * lambda): along the first component only, here. */
    float alpha[3] = {2.0f, 0.0f, 0.0f};
    float before = alexnet_tensor_data(images[0])[5];
    ck_assert_ok(alexnet_image_color_jitter(images[0], &pca, alpha));
    ck_assert_float_eq_tol(alexnet_tensor_data(images[0])[5] - before,
                           pca.eigenvectors[0][0] * 2.0f * pca.eigenvalues[0], 1e-6f);
    for (int k = 0; k < 4; k++)
        alexnet_tensor_free(images[k]);
}
END_TEST

/* ---- IDX ------------------------------------------------------------------------------------- */

/* IDX bytes: n images of rows x cols with pixel (i, p) = (i * 10 + p) % 256, labels i % 3. */
static uint8_t *idx_images(int n, int rows, int cols, size_t *size)
{
    *size = 16 + (size_t)n * rows * cols;
    uint8_t *b = calloc(1, *size);
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    b[2] = 0x08;
    b[3] = 3;
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * d + k] = (uint8_t)(dims[d] >> (24 - 8 * k));
    for (size_t i = 16; i < *size; i++)
        b[i] = (uint8_t)((i - 16) % 256);
    return b;
}

static uint8_t *idx_labels(int n, size_t *size)
{
    *size = 8 + (size_t)n;
    uint8_t *b = calloc(1, *size);
    b[2] = 0x08;
    b[3] = 1;
    for (int k = 0; k < 4; k++)
        b[4 + k] = (uint8_t)((uint32_t)n >> (24 - 8 * k));
    for (int i = 0; i < n; i++)
        b[8 + i] = (uint8_t)(i % 3);
    return b;
}

static void write_gz(const char *path, const uint8_t *data, size_t size)
{
    gzFile f = gzopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, data, (unsigned)size), (int)size);
    gzclose(f);
}

START_TEST(idx_files_load_plain_and_gzipped)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(5, 4, 3, &isize), *labels = idx_labels(5, &lsize);
    write_bytes(in_dir("img.idx"), images, isize);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    write_gz(in_dir("img.idx.gz"), images, isize);
    write_gz(in_dir("lab.idx.gz"), labels, lsize);
    const char *pairs[2][2] = {{in_dir("img.idx"), in_dir("lab.idx")},
                               {in_dir("img.idx.gz"), in_dir("lab.idx.gz")}};
    for (int k = 0; k < 2; k++) {
        alexnet_dataset *ds = NULL;
        ck_assert_ok(alexnet_dataset_open_idx(&ds, pairs[k][0], pairs[k][1]));
        ck_assert_int_eq(alexnet_dataset_size(ds), 5);
        ck_assert_int_eq(alexnet_dataset_num_classes(ds), 3);
        ck_assert_str_eq(alexnet_dataset_class_name(ds, 2), "2");
        alexnet_tensor *t = NULL;
        int32_t label = -1;
        ck_assert_ok(alexnet_dataset_get(ds, 3, &t, &label));
        ck_assert_int_eq(label, 0);
        ck_assert_int_eq(alexnet_tensor_dim(t, 0), 1);
        ck_assert_int_eq(alexnet_tensor_dim(t, 1), 4);
        ck_assert_int_eq(alexnet_tensor_dim(t, 2), 3);
        for (int p = 0; p < 12; p++)
            ck_assert_float_eq(alexnet_tensor_data(t)[p], (float)((3 * 12 + p) % 256) / 255.0f);
        alexnet_tensor_free(t);
        ck_assert_fails(alexnet_dataset_get(ds, 5, &t, &label), ALEXNET_ERR_INVALID_ARGUMENT,
                        "index 5 is out of range");
        alexnet_dataset_free(ds);
    }
    free(images);
    free(labels);
}
END_TEST

START_TEST(bad_idx_files_are_clear_errors)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(5, 4, 3, &isize), *labels = idx_labels(5, &lsize);
    alexnet_dataset *ds = (alexnet_dataset *)&ds;
    write_bytes(in_dir("lab.idx"), labels, lsize);

    images[2] = 0x09; /* not unsigned bytes */
    write_bytes(in_dir("magic.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("magic.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "magic.idx' has the magic number 0x00000903");
    ck_assert_ptr_null(ds);
    images[2] = 0x08;
    images[7] = 6; /* 6 images declared, 5 present */
    write_bytes(in_dir("count.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("count.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "a count larger than the file");
    images[7] = 5;
    images[4] = 0x7f; /* an absurd count: no huge allocation, just an error */
    write_bytes(in_dir("absurd.idx"), images, isize);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("absurd.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "absurd.idx");
    images[4] = 0;
    write_bytes(in_dir("img.idx"), images, isize);
    size_t other_size;
    uint8_t *other = idx_labels(4, &other_size);
    write_bytes(in_dir("lab4.idx"), other, other_size);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("img.idx"), in_dir("lab4.idx")),
                    ALEXNET_ERR_FORMAT, "holds 5 images but");
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("lab.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "has the magic number 0x00000801");
    write_bytes(in_dir("empty.idx"), "", 0);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("empty.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "is 0 bytes, too short for an IDX file");
    write_gz(in_dir("img.idx.gz"), images, isize);
    size_t gz_size;
    uint8_t *gz = read_bytes(in_dir("img.idx.gz"), &gz_size);
    write_bytes(in_dir("cut.idx.gz"), gz, gz_size / 2);
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("cut.idx.gz"), in_dir("lab.idx")),
                    ALEXNET_ERR_FORMAT, "cut.idx.gz': the gzip data is truncated");
    ck_assert_fails(alexnet_dataset_open_idx(&ds, in_dir("none.idx"), in_dir("lab.idx")),
                    ALEXNET_ERR_IO, "none.idx");
    free(gz);
    free(other);
    free(images);
    free(labels);
}
END_TEST

/* ---- folder trees and loaders ---------------------------------------------------------------- */

/* root/{ant,bee,cat}/NN.png: 3 classes x 4 images of 6x8, each a constant grey of its number. */
static const char *make_tree(bool with_corrupt)
{
    const char *root = in_dir("tree");
    mkdir(root, 0755);
    const char *classes[3] = {"bee", "ant", "cat"}; /* made out of order: sorted on opening */
    for (int c = 0; c < 3; c++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", root, classes[c]);
        mkdir(path, 0755);
        for (int i = 0; i < 4; i++) {
            uint8_t px[6 * 8];
            memset(px, 10 * (c * 4 + i), sizeof px);
            snprintf(path, sizeof path, "%s/%s/%02d.png", root, classes[c], i);
            ck_assert(fixture_write_png(path, 8, 6, 1, px));
        }
    }
    char path[600];
    snprintf(path, sizeof path, "%s/ant/notes.txt", root); /* ignored: not an image */
    write_bytes(path, "x", 1);
    if (with_corrupt) {
        snprintf(path, sizeof path, "%s/cat/99.jpg", root);
        write_bytes(path, "not a jpeg", 10);
    }
    return root;
}

START_TEST(folder_tree_gives_sorted_classes_and_files)
{
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(false), 3));
    ck_assert_int_eq(alexnet_dataset_size(ds), 12);
    ck_assert_int_eq(alexnet_dataset_num_classes(ds), 3);
    ck_assert_str_eq(alexnet_dataset_class_name(ds, 0), "ant");
    ck_assert_str_eq(alexnet_dataset_class_name(ds, 1), "bee");
    ck_assert_ptr_null(alexnet_dataset_class_name(ds, 3));
    alexnet_tensor *t = NULL;
    int32_t label;
    ck_assert_ok(alexnet_dataset_get(ds, 5, &t, &label)); /* bee/01.png */
    ck_assert_int_eq(label, 1);
    ck_assert_int_eq(alexnet_tensor_dim(t, 0), 3);
    ck_assert_float_eq_tol(alexnet_tensor_data(t)[0], 10.0f * 1 / 255.0f, 1e-6f);
    alexnet_tensor_free(t);
    alexnet_dataset_free(ds);
    ck_assert_fails(alexnet_dataset_open_folder(&ds, in_dir("missing"), 3), ALEXNET_ERR_IO,
                    "cannot open the folder");
    mkdir(in_dir("bare"), 0755);
    ck_assert_fails(alexnet_dataset_open_folder(&ds, in_dir("bare"), 3), ALEXNET_ERR_FORMAT,
                    "has no class folders");
}
END_TEST

typedef struct skipped_log {
    int count;
    char last[1024];
} skipped_log;

static void remember_skipped(void *user, const char *message)
{
    skipped_log *log = user;
    log->count++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

START_TEST(corrupt_files_stop_or_are_skipped_as_asked)
{
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(true), 1));
    ck_assert_int_eq(alexnet_dataset_size(ds), 13);
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 6, 8));
    cfg.batch_size = 13;
    cfg.shuffle = 0;
    alexnet_loader *ld = NULL;
    alexnet_tensor *images = NULL;
    const int32_t *labels = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    ck_assert_fails(alexnet_loader_next(ld, &images, &labels), ALEXNET_ERR_FORMAT,
                    "99.jpg' is neither a PNG nor a JPEG");
    alexnet_loader_free(ld);

    skipped_log log = {0};
    cfg.on_bad_sample = ALEXNET_BAD_SAMPLE_SKIP;
    cfg.bad_sample_callback = remember_skipped;
    cfg.callback_user = &log;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
    ck_assert_int_eq(alexnet_tensor_dim(images, 0), 12);
    ck_assert_int_eq(log.count, 1);
    ck_assert_ptr_nonnull(strstr(log.last, "cat/99.jpg"));
    ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
    ck_assert_ptr_null(images); /* the epoch is over */
    alexnet_loader_free(ld);
    alexnet_dataset_free(ds);
}
END_TEST

/* Every batch of an epoch, concatenated. */
static void collect_epoch(alexnet_loader *ld, int64_t epoch, float *pixels, int32_t *labels,
                          int64_t sample, int64_t *count)
{
    ck_assert_ok(alexnet_loader_start_epoch(ld, epoch));
    *count = 0;
    for (;;) {
        alexnet_tensor *images = NULL;
        const int32_t *l = NULL;
        ck_assert_ok(alexnet_loader_next(ld, &images, &l));
        if (images == NULL)
            break;
        const int64_t n = alexnet_tensor_dim(images, 0);
        memcpy(pixels + *count * sample, alexnet_tensor_data(images),
               sizeof(float) * (size_t)(n * sample));
        memcpy(labels + *count, l, sizeof(int32_t) * (size_t)n);
        *count += n;
    }
}

START_TEST(loader_batches_are_reproducible_and_cover_each_sample_once)
{
    size_t isize, lsize;
    uint8_t *images = idx_images(50, 8, 8, &isize), *labels = idx_labels(50, &lsize);
    write_bytes(in_dir("img.idx"), images, isize);
    write_bytes(in_dir("lab.idx"), labels, lsize);
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&ds, in_dir("img.idx"), in_dir("lab.idx")));
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 8, 8));
    cfg.batch_size = 16; /* 50 = 16 + 16 + 16 + 2 */
    cfg.seed = 3;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    float a[50 * 64], b[50 * 64], c[50 * 64];
    int32_t la[50], lb[50], lc[50];
    int64_t na, nb, nc;
    alexnet_loader *threaded = NULL, *plain = NULL;
    ck_assert_ok(alexnet_loader_create(&threaded, ds, &cfg));
    ck_assert_int_eq(alexnet_loader_batches(threaded), 4);
    cfg.prefetch = 0;
    cfg.batch_size = 7; /* another batch size and no thread: the same samples */
    ck_assert_ok(alexnet_loader_create(&plain, ds, &cfg));
    collect_epoch(threaded, 1, a, la, 64, &na);
    collect_epoch(plain, 1, b, lb, 64, &nb);
    ck_assert_int_eq(na, 50);
    ck_assert_int_eq(nb, 50);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(la, lb, sizeof la);
    collect_epoch(threaded, 2, c, lc, 64, &nc);
    ck_assert_int_ne(memcmp(la, lc, sizeof la), 0); /* a new order each epoch */
    /* Each sample once: the multiset of labels is the data set's. */
    int counts[3] = {0};
    for (int i = 0; i < 50; i++)
        counts[la[i]]++;
    ck_assert_int_eq(counts[0], 17);
    ck_assert_int_eq(counts[1], 17);
    ck_assert_int_eq(counts[2], 16);
    /* Pad-and-crop shifts by at most 2 pixels and pads with zeros: every image keeps most of
     * its pixels and some crops show padding. */
    int zeros = 0;
    for (int i = 0; i < 50 * 64; i++)
        zeros += a[i] == 0.0f;
    ck_assert_int_gt(zeros, 100);
    ck_assert_int_lt(zeros, 50 * 64 / 2);
    alexnet_loader_free(threaded);
    alexnet_loader_free(plain);

    alexnet_loader *ld = NULL;
    alexnet_tensor *batch = NULL;
    const int32_t *l = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    ck_assert_fails(alexnet_loader_next(ld, &batch, &l), ALEXNET_ERR_STATE,
                    "alexnet_loader_start_epoch");
    alexnet_loader_free(ld);
    cfg.batch_size = 0;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "batch_size is 0");
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 8, 8));
    cfg.pca_std = 0.1f;
    ck_assert_fails(alexnet_loader_create(&ld, ds, &cfg), ALEXNET_ERR_INVALID_ARGUMENT,
                    "needs an RGB data set");
    alexnet_dataset_free(ds);
    free(images);
    free(labels);
}
END_TEST

START_TEST(pca_jitter_shifts_colours_with_zero_mean)
{
    /* Constant images: everything a batch pixel differs from its source by is the jitter. */
    alexnet_dataset *ds = NULL;
    ck_assert_ok(alexnet_dataset_open_folder(&ds, make_tree(false), 3));
    alexnet_color_pca pca = {
        {0.04f, 0.01f, 0.0025f},
        {{0.48f, -0.80f, -0.36f}, {0.60f, 0.60f, -0.48f}, {0.64f, 0.0f, 0.80f}}};
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 3, 6, 8));
    cfg.batch_size = 12;
    cfg.pca_std = 0.1f;
    cfg.pca = pca;
    cfg.shuffle = 0;
    alexnet_loader *ld = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, ds, &cfg));
    float base[12]; /* each image is one grey level */
    for (int i = 0; i < 12; i++) {
        alexnet_tensor *t = NULL;
        int32_t label;
        ck_assert_ok(alexnet_dataset_get(ds, i, &t, &label));
        base[i] = alexnet_tensor_data(t)[0];
        alexnet_tensor_free(t);
    }
    double sum[3] = {0}, sq[3] = {0};
    int n = 0;
    for (int epoch = 0; epoch < 200; epoch++) {
        ck_assert_ok(alexnet_loader_start_epoch(ld, epoch));
        alexnet_tensor *images = NULL;
        const int32_t *labels = NULL;
        ck_assert_ok(alexnet_loader_next(ld, &images, &labels));
        for (int i = 0; i < 12; i++) {
            for (int c = 0; c < 3; c++) {
                double shift = alexnet_tensor_data(images)[(i * 3 + c) * 48 + 7] - base[i];
                sum[c] += shift;
                sq[c] += shift * shift;
            }
            n++;
        }
    }
    for (int c = 0; c < 3; c++) {
        /* shift_c = sum_k P[c][k] a_k l_k, a ~ N(0, 0.1): variance 0.01 sum_k (P[c][k] l_k)^2 */
        double var = 0;
        for (int k = 0; k < 3; k++)
            var += 0.01 * pow(pca.eigenvectors[c][k] * pca.eigenvalues[k], 2);
        ck_assert_double_eq_tol(sum[c] / n, 0.0, 4.0 * sqrt(var / n));
        ck_assert_double_eq_tol(sq[c] / n, var, 0.2 * var);
    }
    alexnet_loader_free(ld);
    alexnet_dataset_free(ds);
}
END_TEST

START_TEST(ten_crop_averages_corners_centre_and_mirrors)
{
    int tops[5], lefts[5];
    ten_crop_positions(256, 256, 227, 227, tops, lefts);
    const int want_tops[5] = {0, 0, 29, 29, 14}, want_lefts[5] = {0, 29, 0, 29, 14};
    ck_assert_mem_eq(tops, want_tops, sizeof tops);
    ck_assert_mem_eq(lefts, want_lefts, sizeof lefts);

    alexnet_network *net = mini_network(15, 0.5f, 9);
    alexnet_tensor *image = numbered_image(1, 19, 17);
    for (int64_t i = 0; i < alexnet_tensor_numel(image); i++)
        alexnet_tensor_data(image)[i] = sinf((float)i * 0.37f);
    float probabilities[10];
    ck_assert_ok(alexnet_predict_ten_crop(net, image, probabilities));
    /* The same by hand: crops, mirrors, softmax, mean. */
    double expected[10] = {0}, total = 0;
    ten_crop_positions(19, 17, 15, 15, tops, lefts);
    int64_t logit_shape[2] = {1, 10};
    alexnet_tensor *logits = NULL;
    ck_assert_ok(alexnet_tensor_create(&logits, 2, logit_shape));
    for (int k = 0; k < 10; k++) {
        alexnet_tensor *crop = NULL, *batch = NULL;
        ck_assert_ok(alexnet_image_crop(&crop, image, tops[k % 5], lefts[k % 5], 15, 15));
        if (k >= 5)
            ck_assert_ok(alexnet_image_flip(crop));
        int64_t shape[4] = {1, 1, 15, 15};
        ck_assert_ok(alexnet_tensor_wrap(&batch, 4, shape, alexnet_tensor_data(crop)));
        ck_assert_ok(alexnet_network_forward(net, batch, logits, 0));
        ck_assert_ok(alexnet_softmax(logits, logits));
        for (int c = 0; c < 10; c++)
            expected[c] += alexnet_tensor_data(logits)[c] / 10.0;
        alexnet_tensor_free(batch);
        alexnet_tensor_free(crop);
    }
    for (int c = 0; c < 10; c++) {
        ck_assert_double_eq_tol(probabilities[c], expected[c], 1e-5);
        total += probabilities[c];
    }
    ck_assert_double_eq_tol(total, 1.0, 1e-5);
    alexnet_tensor *small = numbered_image(1, 14, 20);
    ck_assert_fails(alexnet_predict_ten_crop(net, small, probabilities), ALEXNET_ERR_SHAPE,
                    "at least 15x15");
    alexnet_tensor_free(small);
    alexnet_tensor_free(logits);
    alexnet_tensor_free(image);
    alexnet_network_free(net);
}
END_TEST

START_TEST(class_names_travel_with_the_model)
{
    alexnet_network *net = mini_network(15, 0.0f, 1), *loaded = NULL;
    const char *names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "jay"};
    ck_assert_ptr_null(alexnet_network_class_name(net, 0));
    ck_assert_fails(alexnet_network_set_class_names(net, names, 3), ALEXNET_ERR_INVALID_ARGUMENT,
                    "3 names given for a network of 10 classes");
    ck_assert_ok(alexnet_network_set_class_names(net, names, 10));
    ck_assert_ok(alexnet_network_save(net, in_dir("named.safetensors")));
    ck_assert_ok(alexnet_network_load(&loaded, in_dir("named.safetensors")));
    ck_assert_str_eq(alexnet_network_class_name(loaded, 9), "jay");
    ck_assert_ptr_null(alexnet_network_class_name(loaded, 10));
    alexnet_network_free(net);
    alexnet_network_free(loaded);
}
END_TEST

/* ---- a short training run on Fashion-MNIST ------------------------------------------------- */

START_TEST(short_fashion_mnist_run_learns)
{
    const char *root = getenv("FASHION_MNIST_DIR");
    if (root == NULL)
        root = "/usr/share/datasets/fashion-mnist";
    char images[512], labels[512], test_images[512], test_labels[512];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", root);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", root);
    snprintf(test_images, sizeof test_images, "%s/t10k-images-idx3-ubyte.gz", root);
    snprintf(test_labels, sizeof test_labels, "%s/t10k-labels-idx1-ubyte.gz", root);
    alexnet_dataset *train = NULL, *test = NULL;
    ck_assert_ok(alexnet_dataset_open_idx(&train, images, labels));
    ck_assert_ok(alexnet_dataset_open_idx(&test, test_images, test_labels));
    ck_assert_int_eq(alexnet_dataset_size(train), 60000);
    ck_assert_int_eq(alexnet_dataset_size(test), 10000);

    alexnet_network *net = mini_network(28, 0.0f, 5);
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    sgd.learning_rate = 0.02f;
    alexnet_optimizer *opt = NULL;
    ck_assert_ok(alexnet_optimizer_create(&opt, net, &sgd));
    alexnet_loader_config cfg;
    ck_assert_ok(alexnet_loader_config_init(&cfg, 1, 28, 28));
    cfg.batch_size = 32;
    cfg.mean[0] = 0.286f;
    cfg.std[0] = 0.353f;
    cfg.random_crop = 1;
    cfg.pad = 2;
    cfg.flip = 1;
    alexnet_loader *ld = NULL;
    ck_assert_ok(alexnet_loader_create(&ld, train, &cfg));
    ck_assert_ok(alexnet_loader_start_epoch(ld, 0));
    double first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        alexnet_tensor *batch = NULL;
        const int32_t *l = NULL;
        float loss;
        ck_assert_ok(alexnet_loader_next(ld, &batch, &l));
        ck_assert_ok(alexnet_train_step(net, opt, batch, l, &loss));
        if (step < 30)
            first += loss / 30.0;
        if (step >= 270)
            last += loss / 30.0;
    }
    ck_assert_msg(last < 0.6 * first, "loss went from %.3f to %.3f", first, last);

    alexnet_loader_config tc = cfg;
    tc.batch_size = 500;
    tc.random_crop = tc.pad = tc.flip = 0;
    tc.shuffle = 0;
    alexnet_loader *test_loader = NULL;
    ck_assert_ok(alexnet_loader_create(&test_loader, test, &tc));
    ck_assert_ok(alexnet_loader_start_epoch(test_loader, 0));
    int64_t shape[2] = {500, 10};
    alexnet_tensor *logits = NULL;
    ck_assert_ok(alexnet_tensor_create(&logits, 2, shape));
    int correct = 0;
    for (int b = 0; b < 4; b++) { /* 2000 test images */
        alexnet_tensor *batch = NULL;
        const int32_t *l = NULL;
        ck_assert_ok(alexnet_loader_next(test_loader, &batch, &l));
        ck_assert_ok(alexnet_network_forward(net, batch, logits, 0));
        for (int i = 0; i < 500; i++) {
            const float *z = alexnet_tensor_data(logits) + i * 10;
            int best = 0;
            for (int c = 1; c < 10; c++)
                best = z[c] > z[best] ? c : best;
            correct += best == l[i];
        }
    }
    ck_assert_msg(correct > 2000 * 0.6, "test accuracy %.1f%%, chance is 10%%",
                  100.0 * correct / 2000);
    alexnet_tensor_free(logits);
    alexnet_loader_free(ld);
    alexnet_loader_free(test_loader);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    alexnet_dataset_free(train);
    alexnet_dataset_free(test);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, png_decodes_exactly_in_grey_rgb_and_rgba);
    tcase_add_test(tc, jpeg_decodes_close_to_the_original);
    tcase_add_test(tc, hostile_images_are_clear_errors);
    tcase_add_test(tc, crops_flips_and_normalisation_are_exact);
    tcase_add_test(tc, resizing_keeps_aspect_and_values);
    tcase_add_test(tc, png_round_trips_through_save);
    tcase_add_test(tc, pca_recovers_a_known_colour_covariance);
    tcase_add_test(tc, idx_files_load_plain_and_gzipped);
    tcase_add_test(tc, bad_idx_files_are_clear_errors);
    tcase_add_test(tc, folder_tree_gives_sorted_classes_and_files);
    tcase_add_test(tc, corrupt_files_stop_or_are_skipped_as_asked);
    tcase_add_test(tc, loader_batches_are_reproducible_and_cover_each_sample_once);
    tcase_add_test(tc, pca_jitter_shifts_colours_with_zero_mean);
    tcase_add_test(tc, ten_crop_averages_corners_centre_and_mirrors);
    tcase_add_test(tc, class_names_travel_with_the_model);
    tcase_add_test(tc, short_fashion_mnist_run_learns);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
