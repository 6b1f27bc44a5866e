/* Mutation fuzzing of every loader over in-memory buffers: valid PNG, JPEG, IDX and safetensors
 * images are damaged thousands of ways (bit flips, byte overwrites, truncations, duplicated and
 * inserted runs) with a seeded generator, so every run is the same. Each parse must either succeed
 * with a consistent result or fail with ALEXNET_ERR_FORMAT; under the sanitizer build any memory
 * error or undefined behaviour fails the test. */
#include "file_helpers.h"
#include "image_fixtures.h"
#include "network_helpers.h"

#include "idx.h"
#include "rng.h"
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A damaged copy of `data` (at most twice its size plus 64 bytes). */
static uint8_t *mutate(const uint8_t *data, size_t size, uint64_t iteration, size_t *out_size)
{
    uint8_t *m = malloc(size * 2 + 64);
    memcpy(m, data, size);
    size_t n = size;
    const int edits = 1 + (int)rng_below(11, iteration, 0, 4);
    for (int e = 0; e < edits; e++) {
        uint32_t w[4];
        rng_bits(11, iteration, (uint64_t)e + 1, w);
        size_t at = n ? w[1] % n : 0;
        switch (w[0] % 6) {
        case 0: /* flip a bit */
            if (n)
                m[at] ^= (uint8_t)(1u << (w[2] % 8));
            break;
        case 1: /* overwrite a byte, often with an extreme value */
            if (n)
                m[at] = (uint8_t)(w[3] % 3 == 0 ? 0xFF : w[3] % 3 == 1 ? 0x00 : w[2]);
            break;
        case 2: /* truncate */ n = at; break;
        case 3: { /* duplicate a run */
            size_t len = w[2] % 32;
            if (at + len <= n && n + len <= size * 2 + 64) {
                memmove(m + at + len, m + at, n - at);
                n += len;
            }
            break;
        }
        case 4: { /* insert random bytes */
            size_t len = w[2] % 16;
            if (n + len <= size * 2 + 64) {
                memmove(m + at + len, m + at, n - at);
                for (size_t k = 0; k < len; k++)
                    m[at + k] = (uint8_t)(w[3] >> (k % 4 * 8));
                n += len;
            }
            break;
        }
        default: /* zero a run */
            for (size_t k = at; k < n && k < at + (w[2] % 64); k++)
                m[k] = 0;
        }
    }
    *out_size = n;
    return m;
}

/* ALEXNET_FUZZ_ITERATIONS overrides the count, for longer runs by hand. */
static int iterations_or(int fallback)
{
    const char *text = getenv("ALEXNET_FUZZ_ITERATIONS");
    return text && atoi(text) > 0 ? atoi(text) : fallback;
}

static void fuzz_image(const uint8_t *data, size_t size, int iterations, uint64_t stream)
{
    iterations = iterations_or(iterations);
    int decoded = 0, rejected = 0;
    for (int i = 0; i < iterations; i++) {
        size_t n;
        uint8_t *m = mutate(data, size, stream + (uint64_t)i, &n);
        alexnet_tensor *t = NULL;
        alexnet_status st = alexnet_image_decode(&t, m, n, i % 2 ? 3 : 1);
        ck_assert_msg(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT, "iteration %d: status %d: %s",
                      i, st, alexnet_last_error());
        if (st == ALEXNET_OK) {
            ck_assert_int_eq(alexnet_tensor_ndim(t), 3);
            ck_assert_int_le(alexnet_tensor_dim(t, 1) * alexnet_tensor_dim(t, 2), 1 << 26);
            decoded++;
        } else {
            ck_assert_ptr_null(t);
            ck_assert_msg(strncmp(alexnet_last_error(), "alexnet_image_decode: ", 22) == 0 &&
                              strlen(alexnet_last_error()) > 40,
                          "iteration %d: the message does not say what is wrong: \"%s\"", i,
                          alexnet_last_error());
            rejected++;
        }
        alexnet_tensor_free(t);
        free(m);
    }
    /* Both paths were taken many times: the mutations reach the pixel decoder (files still
     * decodable) as well as every rejection, rather than all dying at the first header check. */
    ck_assert_msg(decoded >= iterations / 50 && rejected >= iterations / 50,
                  "%d of %d mutations decoded, %d rejected", decoded, iterations, rejected);
}

static uint8_t *fixture(int jpeg, size_t *size)
{
    char path[] = "/tmp/alexnet-fuzz-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    const int w = 23, h = 17;
    uint8_t pixels[23 * 17 * 3];
    for (int i = 0; i < w * h * 3; i++)
        pixels[i] = (uint8_t)(i * 7 % 251);
    ck_assert(jpeg ? fixture_write_jpg(path, w, h, 3, pixels, 75)
                   : fixture_write_png(path, w, h, 3, pixels));
    uint8_t *data = read_bytes(path, size);
    unlink(path);
    return data;
}

START_TEST(png_decoder_survives_damage)
{
    size_t size;
    uint8_t *png = fixture(0, &size);
    fuzz_image(png, size, 20000, 1u << 20);
    free(png);
}
END_TEST

START_TEST(jpeg_decoder_survives_damage)
{
    size_t size;
    uint8_t *jpg = fixture(1, &size);
    fuzz_image(jpg, size, 20000, 2u << 20);
    free(jpg);
}
END_TEST

START_TEST(idx_parser_survives_damage)
{
    uint8_t valid[16 + 2 * 5 * 4];
    memset(valid, 0, sizeof valid);
    valid[2] = 0x08, valid[3] = 3, valid[7] = 2, valid[11] = 5, valid[15] = 4;
    for (size_t i = 16; i < sizeof valid; i++)
        valid[i] = (uint8_t)i;
    int parsed = 0;
    for (int i = 0; i < 5000; i++) {
        size_t n;
        uint8_t *m = mutate(valid, sizeof valid, (3u << 20) + (uint64_t)i, &n);
        idx_array a;
        alexnet_status st = idx_parse("fuzz", "buffer", m, n, 3, &a);
        ck_assert(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
        if (st == ALEXNET_OK) { /* consistent: the data fits in the buffer */
            ck_assert_uint_eq(a.size, (size_t)a.dims[0] * a.dims[1] * a.dims[2]);
            ck_assert(a.data + a.size <= m + n);
            parsed++;
        }
        free(m);
    }
    ck_assert_int_gt(parsed, 0);
    ck_assert_int_lt(parsed, 5000);
}
END_TEST

START_TEST(safetensors_parser_survives_damage)
{
    /* A small but complete file: three tensors and metadata. */
    const char header[] = "{\"__metadata__\":{\"alexnet.format\":\"1\"},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                          "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                          "\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]}}";
    const size_t hn = sizeof header - 1, size = 8 + hn + 40;
    uint8_t *valid = calloc(1, size);
    for (int i = 0; i < 8; i++)
        valid[i] = (uint8_t)((uint64_t)hn >> (8 * i));
    memcpy(valid + 8, header, hn);
    safetensors st;
    ck_assert_ok(safetensors_parse("fuzz", "buffer", valid, size, &st));
    ck_assert_uint_eq(st.count, 3);
    safetensors_free(&st);
    int parsed = 0;
    for (int i = 0; i < 5000; i++) {
        size_t n;
        uint8_t *m = mutate(valid, size, (4u << 20) + (uint64_t)i, &n);
        alexnet_status status = safetensors_parse("fuzz", "buffer", m, n, &st);
        ck_assert(status == ALEXNET_OK || status == ALEXNET_ERR_FORMAT);
        if (status == ALEXNET_OK) { /* consistent: every tensor inside the data */
            for (size_t k = 0; k < st.count; k++)
                ck_assert(st.tensors[k].end <= st.data_size);
            parsed++;
            safetensors_free(&st);
        }
        free(m);
    }
    ck_assert_int_gt(parsed, 0);
    free(valid);
}
END_TEST

START_TEST(weight_loading_survives_damaged_headers)
{
    /* Whole-file loading of a real network's file, damaged in its header. */
    char path[] = "/tmp/alexnet-fuzz-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    alexnet_network *net = mini_network(15, 0.0f, 1);
    ck_assert_ok(alexnet_network_save(net, path));
    size_t size;
    uint8_t *valid = read_bytes(path, &size);
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | valid[i];
    const double checksum = param_checksum(net);
    for (int i = 0; i < 300; i++) {
        size_t n;
        uint8_t *m = mutate(valid, (size_t)header + 8, (5u << 20) + (uint64_t)i, &n);
        FILE *f = fopen(path, "wb");
        fwrite(m, 1, n, f);
        fwrite(valid + header + 8, 1, size - header - 8, f);
        fclose(f);
        alexnet_status st = alexnet_network_load_weights(net, path);
        ck_assert(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
        if (st != ALEXNET_OK)
            ck_assert(param_checksum(net) == checksum);
        free(m);
    }
    unlink(path);
    free(valid);
    alexnet_network_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz");
    TCase *tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, png_decoder_survives_damage);
    tcase_add_test(tc, jpeg_decoder_survives_damage);
    tcase_add_test(tc, idx_parser_survives_damage);
    tcase_add_test(tc, safetensors_parser_survives_damage);
    tcase_add_test(tc, weight_loading_survives_damaged_headers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
