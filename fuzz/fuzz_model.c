/* Model files and checkpoints (safetensors with libalexnet's metadata), loaded three ways: as a
 * new network, as a checkpoint, and as weights into an existing network.
 *
 * Input: an 8-byte little-endian data size D, then the JSON header. The harness builds the file
 * image [header length][header][D zero bytes] (D at most 64 MiB), so the fuzzer works on the
 * header, where all the parsing is, instead of megabytes of float values that any bytes make
 * valid. Properties: OK or FORMAT only; every output cleared on failure; a failed weight load
 * leaves the existing network unchanged. */
#include "fuzz_target.h"

#include "network.h"
#include "serialize.h"

#include <string.h>

enum { MAX_DATA = 64 << 20 };

static alexnet_network *existing;
static double existing_sum;

static double checksum(const alexnet_network *net)
{
    double sum = 0.0;
    for (size_t i = 0; i < net->param_floats; i++)
        sum += (double)network_values(net)[i] * (double)((i % 7) + 1);
    return sum;
}

static void make_existing(void)
{
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    cfg.in_height = cfg.in_width = 15;
    FUZZ_REQUIRE(alexnet_network_create(&existing, &cfg, 1) == ALEXNET_OK);
    existing_sum = checksum(existing);
    /* Small limits keep each run fast and show that they hold. */
    alexnet_limits limits;
    alexnet_limits_init(&limits);
    limits.max_model_bytes = 2 * (int64_t)MAX_DATA;
    alexnet_limits_set(&limits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (existing == NULL)
        make_existing();
    if (size < 8)
        return 0;
    uint64_t data_size = 0;
    for (int i = 7; i >= 0; i--)
        data_size = data_size << 8 | data[i];
    data_size %= (uint64_t)MAX_DATA + 1;
    const size_t header = size - 8, total = 8 + header + (size_t)data_size;
    uint8_t *file = calloc(1, total);
    if (file == NULL)
        return 0;
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)((uint64_t)header >> (8 * i));
    memcpy(file + 8, data + 8, header);

    alexnet_network *net = NULL;
    alexnet_status st = serialize_load_model("fuzz", "input", file, total, &net, NULL);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    FUZZ_REQUIRE((st == ALEXNET_OK) == (net != NULL));
    alexnet_network_free(net);

    net = NULL;
    alexnet_optimizer *opt = NULL;
    st = serialize_load_model("fuzz", "input", file, total, &net, &opt);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    FUZZ_REQUIRE((st == ALEXNET_OK) == (net != NULL && opt != NULL));
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);

    st = serialize_load_weights("fuzz", "input", file, total, existing);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    if (st == ALEXNET_OK) { /* zeros were loaded: back to the original values */
        alexnet_network_free(existing);
        existing = NULL;
        make_existing();
    }
    FUZZ_REQUIRE(checksum(existing) == existing_sum);
    free(file);
    return 0;
}
