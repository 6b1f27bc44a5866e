/* IDX data sets, raw or gzipped: the input is the file. Its fourth byte names the dimensions the
 * reader is asked for (1 for labels, 3 for images; anything else asks for 3). Properties: OK or
 * FORMAT only; parsed data lies inside the buffer and matches the declared dimensions. */
#include "fuzz_target.h"

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int ndim = size > 3 && data[3] == 1 ? 1 : 3;
    uint8_t *bytes = NULL;
    size_t n = 0;
    alexnet_status st = idx_decode("fuzz", "input", data, size, ndim, &bytes, &n);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    if (st == ALEXNET_OK) {
        idx_array a;
        st = idx_parse("fuzz", "input", bytes, n, ndim, &a);
        FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
        if (st == ALEXNET_OK) {
            uint64_t count = 1;
            for (int i = 0; i < ndim; i++)
                count *= a.dims[i];
            FUZZ_REQUIRE(a.size == count && a.data + a.size == bytes + n);
        }
    }
    free(bytes);
    return 0;
}
