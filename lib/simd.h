/* Loops that the compiler vectorises, and that are a real share of a pass (Winograd's transforms,
 * LRN, pooling), are compiled several times, for AVX-512, for AVX2 and for the baseline, and the
 * best the machine runs is picked when the library loads (GCC's function multi-versioning). The
 * library itself stays built for the baseline, so one binary runs everywhere. */
#ifndef ALEXNET_SIMD_H
#define ALEXNET_SIMD_H

#include <stdint.h>

/* ThreadSanitizer's runtime is not up yet when the loader runs the clones' resolvers (ifuncs), and
 * they crash it: the ThreadSanitizer build takes the baseline code only. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_THREAD__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef SIMD_CLONES
#define SIMD_CLONES
#endif

/* SIMD_WIDTH floats (or int32s, for masks) as one value: GCC's and clang's vector extension, for
 * kernels that the compiler would not vectorise well on its own. Each clone of a SIMD_CLONES
 * function maps it onto its own registers (one AVX-512 register, two AVX2, four SSE). Passing or
 * returning one by value changes the ABI between clones: helpers that take them are always_inline,
 * or take pointers. Loads and stores go through memcpy or the unaligned type. */
#define SIMD_WIDTH 16
typedef float simd_floats __attribute__((vector_size(SIMD_WIDTH * sizeof(float))));
typedef float simd_floats_unaligned
    __attribute__((vector_size(SIMD_WIDTH * sizeof(float)), aligned(sizeof(float))));
typedef int32_t simd_ints __attribute__((vector_size(SIMD_WIDTH * sizeof(int32_t))));

#endif
