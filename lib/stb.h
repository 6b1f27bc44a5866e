/* The one translation unit that compiles stb (Debian's libstb-dev: stb_image 2.27,
 * stb_image_resize, stb_image_write), and the narrow interface the library uses. stb_image is built
 * with only its PNG decoder (JPEG goes to libjpeg-turbo: jpeg_decode.c), no stdio, no failure strings (its text is static and shared
 * between threads), and an STBI_ASSERT that records a failed assertion instead of aborting; a
 * decode that tripped one is treated as failed. */
#ifndef ALEXNET_STB_H
#define ALEXNET_STB_H

#include <stdbool.h>
#include <stdint.h>

/* Width, height and channel count from the header; false when it is not a readable PNG. */
bool stb_image_info(const uint8_t *data, int size, int *width, int *height, int *channels);

/* Decodes to 8-bit pixels with `channels` interleaved (1 or 3); NULL on failure. Release with
 * stb_image_release. */
uint8_t *stb_image_decode(const uint8_t *data, int size, int channels, int *width, int *height);
void stb_image_release(uint8_t *pixels);

/* Resizes one float plane; false on failure. */
bool stb_resize_plane(const float *in, int width, int height, float *out, int out_width,
                      int out_height);

/* Encodes 8-bit interleaved pixels as PNG through `write`; false on failure. */
typedef void (*stb_write_fn)(void *ctx, void *data, int size);
bool stb_png_encode(stb_write_fn write, void *ctx, int width, int height, int channels,
                    const uint8_t *pixels);

#endif
