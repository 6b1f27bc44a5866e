/* Images: decoding PNG and JPEG (and refusing hostile files), preprocessing, the colour PCA and
 * test-time ten-crop prediction. */
#include "file_helpers.h"
#include "image_fixtures.h"
#include "network_helpers.h"

#include "augment.h"
#include "rng.h"

#include <math.h>
#include <zlib.h>

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
    write_bytes(in_dir("short.jpg"), jpg_bytes, 20);
    ck_assert_fails(alexnet_image_load(&t, in_dir("short.jpg"), 3), ALEXNET_ERR_FORMAT,
                    "short.jpg': the JPEG");
    write_bytes(in_dir("empty.png"), "", 0);
    ck_assert_fails(alexnet_image_load(&t, in_dir("empty.png"), 3), ALEXNET_ERR_FORMAT,
                    "neither a PNG nor a JPEG image (it is empty)");
    const char text[] = "this is not a picture\n";
    write_bytes(in_dir("text.jpg"), text, sizeof text - 1);
    ck_assert_fails(alexnet_image_load(&t, in_dir("text.jpg"), 3), ALEXNET_ERR_FORMAT,
                    "text.jpg' is neither a PNG nor a JPEG image");
    write_png_header(in_dir("huge.png"), 100000, 100000);
    ck_assert_fails(alexnet_image_load(&t, in_dir("huge.png"), 3), ALEXNET_ERR_FORMAT,
                    "claims 100000x100000 pixels; alexnet_limits allows 16384 per side");
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

/* A palette PNG of w x h 8-bit indices and `colors` RGB palette entries, built by hand (no
 * encoder writes indices past the palette). */
static uint8_t *palette_png(int w, int h, const uint8_t *indices, const uint8_t *palette,
                            int colors, size_t *size)
{
    uint8_t raw[64 * 65];
    ck_assert_int_le(h * (w + 1), (int)sizeof raw);
    for (int y = 0; y < h; y++) {
        raw[y * (w + 1)] = 0; /* filter: none */
        memcpy(raw + y * (w + 1) + 1, indices + y * w, (size_t)w);
    }
    uLongf zsize = compressBound(sizeof raw);
    uint8_t *z = malloc(zsize);
    ck_assert_int_eq(compress(z, &zsize, raw, (uLong)(h * (w + 1))), Z_OK);
    uint8_t *png = malloc(8 + 25 + 12 + 3 * (size_t)colors + 12 + zsize + 12);
    size_t n = 0;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    const uint8_t ihdr[13] = {0, 0, 0, (uint8_t)w, 0, 0, 0, (uint8_t)h, 8, 3, 0, 0, 0};
    const struct {
        const char *type;
        const uint8_t *data;
        size_t length;
    } chunks[] = {{"IHDR", ihdr, 13}, {"PLTE", palette, 3 * (size_t)colors},
                  {"IDAT", z, zsize}, {"IEND", NULL, 0}};
    for (size_t c = 0; c < 4; c++) {
        for (int i = 0; i < 4; i++)
            png[n + i] = (uint8_t)(chunks[c].length >> (24 - 8 * i));
        memcpy(png + n + 4, chunks[c].type, 4);
        if (chunks[c].length)
            memcpy(png + n + 8, chunks[c].data, chunks[c].length);
        uLong crc = crc32(0L, png + n + 4, (uInt)(4 + chunks[c].length));
        for (int i = 0; i < 4; i++)
            png[n + 8 + chunks[c].length + i] = (uint8_t)(crc >> (24 - 8 * i));
        n += 12 + chunks[c].length;
    }
    free(z);
    *size = n;
    return png;
}

/* Indices past the palette used to decode to stb's uninitialised stack (valgrind saw it); they
 * are refused now, and indices within it decode to exactly the palette's colours. */
START_TEST(palette_indices_past_the_palette_are_refused)
{
    const uint8_t palette[6] = {10, 20, 30, 200, 100, 50};
    uint8_t indices[4 * 3] = {0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0};
    size_t size;
    uint8_t *png = palette_png(4, 3, indices, palette, 2, &size);
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_image_decode(&t, png, size, 3));
    for (int p = 0; p < 12; p++)
        for (int c = 0; c < 3; c++)
            ck_assert_float_eq(alexnet_tensor_data(t)[c * 12 + p],
                               (float)palette[indices[p] * 3 + c] / 255.0f);
    alexnet_tensor_free(t);
    free(png);
    for (int bad = 2; bad < 256; bad += 51) {
        indices[7] = (uint8_t)bad;
        png = palette_png(4, 3, indices, palette, 2, &size);
        for (int channels = 1; channels <= 3; channels += 2) {
            t = (alexnet_tensor *)&t;
            ck_assert_fails(alexnet_image_decode(&t, png, size, channels), ALEXNET_ERR_FORMAT,
                            "use colours past the 2 its palette (PLTE) defines");
            ck_assert_ptr_null(t);
        }
        free(png);
    }
}
END_TEST

/* The host's limits: a 795-byte JPEG may claim 8192 x 8192 pixels (256 MiB decoded). */
START_TEST(the_host_limits_image_sizes)
{
    const int w = 16, h = 16;
    uint8_t *p = pattern(w, h, 3);
    ck_assert(fixture_write_jpg(in_dir("small.jpg"), w, h, 3, p, 90));
    size_t size;
    uint8_t *jpg = read_bytes(in_dir("small.jpg"), &size);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < size && !sof; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0)
            sof = i;
    ck_assert_uint_gt(sof, 0);
    jpg[sof + 5] = 0x20, jpg[sof + 6] = 0x00; /* height 8192 */
    jpg[sof + 7] = 0x20, jpg[sof + 8] = 0x00; /* width 8192 */
    alexnet_limits limits;
    ck_assert_ok(alexnet_limits_init(&limits));
    limits.max_image_pixels = 4096 * 4096;
    ck_assert_ok(alexnet_limits_set(&limits));
    alexnet_tensor *t = (alexnet_tensor *)&t;
    ck_assert_fails(alexnet_image_decode(&t, jpg, size, 3), ALEXNET_ERR_FORMAT,
                    "claims 8192x8192 pixels; alexnet_limits allows 16384 per side "
                    "(max_image_side) and 16777216 in all");
    ck_assert_ptr_null(t);
    limits.max_image_side = 15;
    ck_assert_ok(alexnet_limits_set(&limits));
    ck_assert(fixture_write_png(in_dir("small.png"), w, h, 3, p));
    ck_assert_fails(alexnet_image_load(&t, in_dir("small.png"), 1), ALEXNET_ERR_FORMAT,
                    "claims 16x16 pixels; alexnet_limits allows 15 per side");
    limits.max_image_side = 16;
    limits.max_image_bytes = 100;
    ck_assert_ok(alexnet_limits_set(&limits));
    ck_assert_fails(alexnet_image_load(&t, in_dir("small.png"), 1), ALEXNET_ERR_FORMAT,
                    "more than the 100 this reader accepts");
    ck_assert_ok(alexnet_limits_set(NULL));
    ck_assert_ok(alexnet_image_load(&t, in_dir("small.png"), 1));
    alexnet_tensor_free(t);
    free(jpg);
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

static alexnet_tensor *constant_image(int c, int h, int w, const float *values)
{
    int64_t shape[3] = {c, h, w};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 3, shape));
    for (int64_t i = 0; i < alexnet_tensor_numel(t); i++)
        alexnet_tensor_data(t)[i] = values[i / ((int64_t)h * w)];
    return t;
}

START_TEST(preprocessing_kinds_prepare_images_in_one_call)
{
    alexnet_preprocessing p;
    const float rgb[3] = {0.2f, 0.4f, 0.6f};
    alexnet_tensor *image = constant_image(3, 300, 400, rgb), *out = NULL;

    /* ImageNet's: shorter side 256 (256 x 341), centre 224 x 224, (x - mean) / std. */
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_IMAGENET));
    ck_assert_int_eq(p.resize, ALEXNET_RESIZE_SHORTER);
    ck_assert_int_eq(p.resize_side, 256);
    ck_assert_ok(alexnet_image_preprocess(&out, image, &p, 224, 224));
    ck_assert_int_eq(alexnet_tensor_dim(out, 0), 3);
    ck_assert_int_eq(alexnet_tensor_dim(out, 1), 224);
    ck_assert_int_eq(alexnet_tensor_dim(out, 2), 224);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 224 * 224; i += 997)
            ck_assert_float_eq_tol(alexnet_tensor_data(out)[c * 224 * 224 + i],
                                   (rgb[c] - mean[c]) / std[c], 1e-5f);
    alexnet_tensor_free(out);
    /* No crop: the whole resized image, for the ten crops. */
    ck_assert_ok(alexnet_image_preprocess(&out, image, &p, 0, 0));
    ck_assert_int_eq(alexnet_tensor_dim(out, 1), 256);
    ck_assert_int_eq(alexnet_tensor_dim(out, 2), 341);
    alexnet_tensor_free(out);

    /* Caffe's: 256 x 256, BGR, [0, 255] minus the mean pixel. */
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_CAFFE));
    ck_assert_int_eq(p.resize, ALEXNET_RESIZE_SQUARE);
    ck_assert_int_eq(p.bgr, 1);
    ck_assert_float_eq(p.scale, 255.0f);
    ck_assert_ok(alexnet_image_preprocess(&out, image, &p, 227, 227));
    const float bgr_mean[3] = {104.00698793f, 116.66876762f, 122.67891434f};
    for (int c = 0; c < 3; c++)
        ck_assert_float_eq_tol(alexnet_tensor_data(out)[c * 227 * 227 + 5000],
                               rgb[2 - c] * 255.0f - bgr_mean[c], 1e-3f);
    alexnet_tensor_free(out);
    alexnet_tensor_free(image);

    /* At the size it already has, the image is not resampled: exactly alexnet_image_normalize. */
    image = numbered_image(3, 4, 5);
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_IMAGENET));
    p.resize_side = 4;
    ck_assert_ok(alexnet_image_preprocess(&out, image, &p, 4, 5));
    ck_assert_ok(alexnet_image_normalize(image, mean, std));
    ck_assert_mem_eq(alexnet_tensor_data(out), alexnet_tensor_data(image), sizeof(float) * 60);
    alexnet_tensor_free(out);
    /* A crop larger than the image is padded with 0 before normalising. */
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_PLAIN));
    p.mean[0] = p.mean[1] = p.mean[2] = 1.0f;
    ck_assert_ok(alexnet_image_preprocess(&out, image, &p, 6, 5));
    ck_assert_float_eq(alexnet_tensor_data(out)[0], -1.0f);
    ck_assert_float_eq(alexnet_tensor_data(out)[5], alexnet_tensor_data(image)[0] - 1.0f);
    alexnet_tensor_free(out);
    alexnet_tensor_free(image);

    /* Errors name what is wrong. */
    const float grey_value[1] = {0.5f};
    alexnet_tensor *grey = constant_image(1, 8, 8, grey_value);
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_CAFFE));
    out = (alexnet_tensor *)&out;
    ck_assert_fails(alexnet_image_preprocess(&out, grey, &p, 4, 4), ALEXNET_ERR_SHAPE,
                    "swaps RGB to BGR but the image is grey");
    ck_assert_ptr_null(out);
    p.bgr = 0;
    ck_assert_fails(alexnet_image_preprocess(&out, grey, &p, 0, 4), ALEXNET_ERR_INVALID_ARGUMENT,
                    "the crop 0x4");
    p.resize_side = 0;
    ck_assert_fails(alexnet_image_preprocess(&out, grey, &p, 4, 4), ALEXNET_ERR_INVALID_ARGUMENT,
                    "preprocessing.resize_side is 0");
    ck_assert_ok(alexnet_preprocessing_init(&p, ALEXNET_PREPROCESSING_PLAIN));
    p.std[1] = 0.0f;
    ck_assert_fails(alexnet_image_preprocess(&out, grey, &p, 4, 4), ALEXNET_ERR_INVALID_ARGUMENT,
                    "channel 1 has mean 0 and std 0");
    p.std[1] = 1.0f;
    p.struct_size = 8;
    ck_assert_fails(alexnet_image_preprocess(&out, grey, &p, 4, 4), ALEXNET_ERR_INVALID_ARGUMENT,
                    "alexnet_preprocessing.struct_size is 8");
    ck_assert_fails(alexnet_preprocessing_init(&p, (alexnet_preprocessing_kind)3),
                    ALEXNET_ERR_INVALID_ARGUMENT, "kind 3 is unknown");
    alexnet_tensor_free(grey);
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
    int64_t classes = 10, too_many = 11, row[2] = {1, 10};
    alexnet_tensor *out = NULL, *wrong = NULL, *as_row = NULL;
    ck_assert_ok(alexnet_tensor_wrap(&out, 1, &classes, probabilities));
    ck_assert_ok(alexnet_predict_ten_crop(net, image, out));
    /* The same by hand: crops, mirrors, softmax, mean. The corners and centre of a 19x17 image
     * for 15x15 crops, written out rather than asked of ten_crop_positions (under test). */
    double expected[10] = {0}, total = 0;
    const int corner_tops[5] = {0, 0, 4, 4, 2}, corner_lefts[5] = {0, 2, 0, 2, 1};
    memcpy(tops, corner_tops, sizeof tops);
    memcpy(lefts, corner_lefts, sizeof lefts);
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
    /* [1, classes] is accepted too; any other size is refused before anything is written. */
    ck_assert_ok(alexnet_tensor_create(&as_row, 2, row));
    ck_assert_ok(alexnet_predict_ten_crop(net, image, as_row));
    for (int c = 0; c < 10; c++)
        ck_assert_float_eq(alexnet_tensor_data(as_row)[c], probabilities[c]);
    ck_assert_ok(alexnet_tensor_create(&wrong, 1, &too_many));
    alexnet_tensor_data(wrong)[10] = 42.0f;
    ck_assert_fails(alexnet_predict_ten_crop(net, image, wrong), ALEXNET_ERR_SHAPE,
                    "probabilities is [11]");
    ck_assert_float_eq(alexnet_tensor_data(wrong)[10], 42.0f);
    alexnet_tensor *small = numbered_image(1, 14, 20);
    ck_assert_fails(alexnet_predict_ten_crop(net, small, out), ALEXNET_ERR_SHAPE, "at least 15x15");
    alexnet_tensor_free(small);
    alexnet_tensor_free(out);
    alexnet_tensor_free(wrong);
    alexnet_tensor_free(as_row);
    alexnet_tensor_free(logits);
    alexnet_tensor_free(image);
    alexnet_network_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("images");
    TCase *tc = tcase_create("images");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, png_decodes_exactly_in_grey_rgb_and_rgba);
    tcase_add_test(tc, jpeg_decodes_close_to_the_original);
    tcase_add_test(tc, hostile_images_are_clear_errors);
    tcase_add_test(tc, palette_indices_past_the_palette_are_refused);
    tcase_add_test(tc, the_host_limits_image_sizes);
    tcase_add_test(tc, crops_flips_and_normalisation_are_exact);
    tcase_add_test(tc, preprocessing_kinds_prepare_images_in_one_call);
    tcase_add_test(tc, resizing_keeps_aspect_and_values);
    tcase_add_test(tc, png_round_trips_through_save);
    tcase_add_test(tc, pca_recovers_a_known_colour_covariance);
    tcase_add_test(tc, ten_crop_averages_corners_centre_and_mirrors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
