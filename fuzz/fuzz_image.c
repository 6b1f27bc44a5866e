/* PNG and JPEG decoding (stb_image behind the library's guards). The input is the image file;
 * its size's parity picks grey or RGB output. Properties: OK or FORMAT only; a decoded image has
 * the claimed shape within the limits; a failure leaves no tensor. */
#include "fuzz_target.h"

#include "image.h"
#include "tensor.h"

#include <stdbool.h>
#include <string.h>

enum { MAX_PIXELS = 1 << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool limited;
    if (!limited) { /* a host's smaller limit, which also keeps every run fast */
        alexnet_limits limits;
        alexnet_limits_init(&limits);
        limits.max_image_pixels = MAX_PIXELS;
        FUZZ_REQUIRE(alexnet_limits_set(&limits) == ALEXNET_OK);
        limited = true;
    }
    const int channels = size % 2 ? 3 : 1;
    alexnet_tensor *t = NULL;
    alexnet_status st = image_decode("fuzz", "input", data, size, channels, &t);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    FUZZ_REQUIRE((st == ALEXNET_OK) == (t != NULL));
    if (t != NULL) {
        FUZZ_REQUIRE(t->ndim == 3 && t->shape[0] == channels);
        FUZZ_REQUIRE(t->shape[1] * t->shape[2] <= MAX_PIXELS);
        for (int64_t i = 0; i < t->numel; i++) /* reads every pixel: valgrind and MSan see them */
            FUZZ_REQUIRE(t->data[i] >= 0.0f && t->data[i] <= 1.0f);
    }
    alexnet_tensor_free(t);
    return 0;
}
