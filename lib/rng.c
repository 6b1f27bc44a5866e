#include "rng.h"

#include <math.h>

static inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t product = (uint64_t)a * b;
    *hi = (uint32_t)(product >> 32);
    return (uint32_t)product;
}

void rng_bits(uint64_t seed, uint64_t stream, uint64_t index, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
        uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

float rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t w[4];
    rng_bits(seed, stream, index, w);
    return rng_word_to_unit(w[0]);
}

static void box_muller(uint32_t a, uint32_t b, float *z0, float *z1)
{
    double radius = sqrt(-2.0 * log((double)rng_word_to_unit(a)));
    double angle = 6.283185307179586 * (double)rng_word_to_unit(b);
    *z0 = (float)(radius * cos(angle));
    *z1 = (float)(radius * sin(angle));
}

void rng_normal4(uint64_t seed, uint64_t stream, uint64_t index, float out[4])
{
    uint32_t w[4];
    rng_bits(seed, stream, index, w);
    box_muller(w[0], w[1], &out[0], &out[1]);
    box_muller(w[2], w[3], &out[2], &out[3]);
}

uint64_t rng_below(uint64_t seed, uint64_t stream, uint64_t index, uint64_t bound)
{
    uint32_t w[4];
    rng_bits(seed, stream, index, w);
    uint64_t x = ((uint64_t)w[0] << 32) | w[1];
    return x % bound;
}
