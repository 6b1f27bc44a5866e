#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include "image_fixtures.h"

#include <stb/stb_image_write.h>

int fixture_write_png(const char *path, int width, int height, int channels, const uint8_t *pixels)
{
    return stbi_write_png(path, width, height, channels, pixels, width * channels);
}

int fixture_write_jpg(const char *path, int width, int height, int channels, const uint8_t *pixels,
                      int quality)
{
    return stbi_write_jpg(path, width, height, channels, pixels, quality);
}
