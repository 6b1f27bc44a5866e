/* The one entry point every fuzz target defines (libFuzzer's), so the same target builds into a
 * libFuzzer binary (clang, scripts/fuzz.sh) and into a replay program that runs saved inputs
 * (replay.c, any compiler: the regression tests). A target returns 0 and aborts on a broken
 * property; sanitizers catch the rest. */
#ifndef ALEXNET_FUZZ_TARGET_H
#define ALEXNET_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run on a broken property, naming it (libFuzzer then saves the input). */
#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
