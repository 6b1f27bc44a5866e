/* The JSON metadata of model files, read directly: the configuration, the optimizer state, class
 * names, the preprocessing and the decimal counters, each over the same text. Properties: OK or FORMAT only (the
 * class-name reader may also run out of memory, never for these sizes); what is accepted is in
 * range. */
#include "fuzz_target.h"

#include "metadata.h"

#include <limits.h>
#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    alexnet_config cfg;
    alexnet_status st = metadata_config_from_json("fuzz", "input", text, &cfg);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    if (st == ALEXNET_OK)
        FUZZ_REQUIRE(cfg.in_channels >= 1 && cfg.in_height >= 1 && cfg.num_classes >= 1 &&
                     cfg.dropout >= 0.0f && cfg.dropout < 1.0f && cfg.lrn_k > 0.0f &&
                     cfg.lrn_size >= 1 && (cfg.pool_ceil == 0 || cfg.pool_ceil == 1) &&
                     (cfg.pool_size == 2 || cfg.pool_size == 3) && (cfg.lrn == 0 || cfg.lrn == 1) &&
                     (unsigned)cfg.activation <= ALEXNET_ACTIVATION_TANH && isfinite(cfg.init_bias));

    optimizer_state opt;
    st = metadata_optimizer_from_json("fuzz", "input", text, &opt);
    FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
    if (st == ALEXNET_OK)
        FUZZ_REQUIRE(opt.steps >= 0 && opt.epochs >= 0 && opt.bad_epochs >= 0 &&
                     opt.bad_epochs < opt.schedule.patience && opt.sgd.learning_rate > 0.0f);

    alexnet_preprocessing prep;
    for (int channels = 1; channels <= 3; channels += 2) {
        st = metadata_preprocessing_from_json("fuzz", "input", text, channels, &prep);
        FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
        if (st == ALEXNET_OK)
            FUZZ_REQUIRE(prep.scale > 0.0f && prep.std[0] > 0.0f && prep.std[2] > 0.0f &&
                         (unsigned)prep.resize <= ALEXNET_RESIZE_SQUARE &&
                         (prep.bgr == 0 || channels == 3));
    }

    char **names = NULL;
    for (int count = 1; count <= 10; count += 9) {
        st = metadata_class_names_from_json("fuzz", "input", text, count, &names);
        FUZZ_REQUIRE(st == ALEXNET_OK || st == ALEXNET_ERR_FORMAT);
        FUZZ_REQUIRE((st == ALEXNET_OK) == (names != NULL));
        metadata_class_names_free(names, count);
    }

    uint64_t value = 0;
    if (metadata_parse_u64(text, &value)) {
        char back[32];
        snprintf(back, sizeof back, "%llu", (unsigned long long)value);
        const char *digits = text + strspn(text, "0");
        FUZZ_REQUIRE(strcmp(back, *digits ? digits : "0") == 0); /* no value was saturated */
    }
    free(text);
    return 0;
}
