// Element-wise kernels compiled once per vector width and chosen at run time (SonoKernels' `VectorKernels`),
// so a portable x86-64-v3 build still runs 16-lane AVX-512 arithmetic on CPUs that have it.
#pragma once
#include <stddef.h>

/// Which compiled variant to run: 16 lanes (AVX-512F), 8 lanes (AVX2 + FMA), or the platform default.
typedef enum { SONO_VECTOR_DEFAULT = 0, SONO_VECTOR_AVX2 = 8, SONO_VECTOR_AVX512 = 16 } sono_vector_isa;

/// Whether this CPU can run `isa`'s variant (always true for SONO_VECTOR_DEFAULT).
int sono_vector_isa_supported(sono_vector_isa isa);

/// The Gabor wavelet y = cos(w0 x) · exp(-(s0 x)²) over x[0..<n]; when dy is not NULL also its derivative
/// dy/dx = -exp(-(s0 x)²) · (w0 sin(w0 x) + 2 s0² x cos(w0 x)).
void sono_gabor(sono_vector_isa isa, size_t n, const float *x, float *y, float *dy, float w0, float s0);
