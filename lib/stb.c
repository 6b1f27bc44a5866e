#include "stb.h"

#include <stdlib.h>

/* stb's failed internal checks, per thread: a decode that trips one is discarded. */
static _Thread_local bool stb_assert_failed;
#define STBI_ASSERT(x) ((x) ? (void)0 : (void)(stb_assert_failed = true))
#define STBIR_ASSERT(x) STBI_ASSERT(x)
#define STBIW_ASSERT(x) STBI_ASSERT(x)

#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_FAILURE_STRINGS
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC

/* Third-party code: lib/CMakeLists.txt compiles this file with -w, its warnings not ours. */
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

bool stb_image_info(const uint8_t *data, int size, int *width, int *height, int *channels)
{
    stb_assert_failed = false;
    int ok = stbi_info_from_memory(data, size, width, height, channels);
    return ok && !stb_assert_failed;
}

uint8_t *stb_image_decode(const uint8_t *data, int size, int channels, int *width, int *height)
{
    int found;
    stb_assert_failed = false;
    uint8_t *pixels = stbi_load_from_memory(data, size, width, height, &found, channels);
    if (pixels != NULL && stb_assert_failed) {
        stbi_image_free(pixels);
        pixels = NULL;
    }
    return pixels;
}

void stb_image_release(uint8_t *pixels)
{
    stbi_image_free(pixels);
}

bool stb_resize_plane(const float *in, int width, int height, float *out, int out_width,
                      int out_height)
{
    stb_assert_failed = false;
    int ok = stbir_resize_float(in, width, height, 0, out, out_width, out_height, 0, 1);
    return ok && !stb_assert_failed;
}

bool stb_png_encode(stb_write_fn write, void *ctx, int width, int height, int channels,
                    const uint8_t *pixels)
{
    stb_assert_failed = false;
    int ok = stbi_write_png_to_func(write, ctx, width, height, channels, pixels, width * channels);
    return ok && !stb_assert_failed;
}
