/* Counter-based random numbers (Philox4x32-10, Salmon et al., SC 2011). A draw is a pure function
 * of (seed, stream, index): no generator state to carry between threads, so every random choice —
 * initial weights, dropout masks, shuffles, augmentation — is reproducible from the seed whatever
 * the thread count and the order in which work is done. */
#ifndef ALEXNET_RNG_H
#define ALEXNET_RNG_H

#include <stdint.h>

/* Stream identifiers: the high byte says what the numbers are for, the rest which instance. */
enum {
    RNG_STREAM_INIT = 1,     /* | parameter index                  */
    RNG_STREAM_DROPOUT = 2,  /* | layer index << 40 | forward step  */
    RNG_STREAM_SHUFFLE = 3,  /* | epoch                             */
    RNG_STREAM_AUGMENT = 4,  /* | epoch << 32 | sample              */
    RNG_STREAM_COLOR_PCA = 5 /* | 0: the images a colour PCA fits  */
};
#define RNG_STREAM(kind, id) (((uint64_t)(kind) << 56) | ((uint64_t)(id)&0x00FFFFFFFFFFFFFFull))

/* Four independent 32-bit words for this (seed, stream, index). */
void rng_bits(uint64_t seed, uint64_t stream, uint64_t index, uint32_t out[4]);

/* Uniform in (0, 1], from the first word of rng_bits. */
float rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);

/* Four standard normals, for elements 4 * index .. 4 * index + 3 of a stream (the Box-Muller
 * transform of both word pairs). */
void rng_normal4(uint64_t seed, uint64_t stream, uint64_t index, float out[4]);

/* Uniform integer in [0, bound), bound >= 1 (64-bit draw, negligible bias for bound < 2^32). */
uint64_t rng_below(uint64_t seed, uint64_t stream, uint64_t index, uint64_t bound);

/* Converts one 32-bit word to a uniform float in (0, 1]. */
static inline float rng_word_to_unit(uint32_t word)
{
    return (float)((word >> 8) + 1) * (1.0f / 16777216.0f);
}

#endif
