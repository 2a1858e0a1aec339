// One source (gabor_body.h), compiled per vector width. On x86_64 the target's baseline is x86-64-v3 (AVX2);
// the 16-lane variant carries its own `target` attribute and runs only where the CPU reports AVX-512F.
#include "CVectorKernels.h"

#if defined(__x86_64__)
#define W 16
#define NAME(x) x##_avx512
#define TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#include "gabor_body.h"
#undef W
#undef NAME
#undef TARGET
#endif

#define W 8
#define NAME(x) x##_default
#define TARGET
#include "gabor_body.h"
#undef W
#undef NAME
#undef TARGET

int sono_vector_isa_supported(sono_vector_isa isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (isa == SONO_VECTOR_AVX512) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                                        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (isa == SONO_VECTOR_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    if (isa != SONO_VECTOR_DEFAULT) return 0;
#endif
    return 1;
}

void sono_gabor(sono_vector_isa isa, size_t n, const float *x, float *y, float *dy, float w0, float s0) {
#if defined(__x86_64__)
    if (isa == SONO_VECTOR_AVX512) { sono_gabor_avx512(n, x, y, dy, w0, s0); return; }
#endif
    sono_gabor_default(n, x, y, dy, w0, s0);
}
