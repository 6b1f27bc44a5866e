/* Test images written with stb_image_write (its own translation unit, image_fixtures.c), so the
 * decoder is checked against an independent encoder. */
#ifndef ALEXNET_IMAGE_FIXTURES_H
#define ALEXNET_IMAGE_FIXTURES_H

#include <stdint.h>

/* 8-bit interleaved pixels, `channels` 1 to 4. Return 1 on success. */
int fixture_write_png(const char *path, int width, int height, int channels, const uint8_t *pixels);
int fixture_write_jpg(const char *path, int width, int height, int channels, const uint8_t *pixels,
                      int quality);

#endif
