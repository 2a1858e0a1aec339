// SonoSeg's Swift code is compiled for x86-64-v3 (AVX2, FMA, F16C; Package.swift). On an older x86 CPU the
// first such instruction would kill the process with SIGILL and no word of why. This file is compiled for the
// generic baseline and checks the CPU before main runs, so such a user reads what is missing instead.
#include "CCPUCheck.h"
#include <stdio.h>
#include <stdlib.h>

#if defined(__x86_64__)
__attribute__((constructor)) static void sonoseg_check_cpu(void) {
    __builtin_cpu_init();
    const char *missing = !__builtin_cpu_supports("avx2") ? "AVX2"
                        : !__builtin_cpu_supports("fma") ? "FMA"
                        : !__builtin_cpu_supports("f16c") ? "F16C" : NULL;
    if (missing) {
        fprintf(stderr, "sonoseg: this build needs an x86-64 CPU with AVX2, FMA and F16C (x86-64-v3: Intel Haswell, "
                        "AMD Zen or newer); this CPU has no %s.\n", missing);
        exit(1);
    }
}
#endif

int sonoseg_cpu_check_linked(void) { return 1; }
