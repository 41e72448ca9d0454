/* Which variant of cpu_kernels.c runs (cpu_kernels.h). */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

int cpu_kernels_supported(const char *isa)
{
    if (strcmp(isa, "baseline") == 0) return 1;
#ifdef CPU_KERNELS_X86
    __builtin_cpu_init();
    /* the -march levels the variants are compiled for: GCC >= 12 knows them by name; clang (the
     * fuzzing build) only by feature, so it checks the ones that set v3 and v4 apart (every CPU
     * with AVX2, FMA and BMI2 also has the rest of v3: F16C, MOVBE, LZCNT) */
#if defined(__clang__)
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
             __builtin_cpu_supports("bmi2");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512cd");
#else
    int v3 = __builtin_cpu_supports("x86-64-v3") != 0, v4 = __builtin_cpu_supports("x86-64-v4") != 0;
#endif
    if (strcmp(isa, "avx2") == 0) return v3;
    if (strcmp(isa, "avx512") == 0) return v4;
#endif
    return 0;
}

const cpu_kernels *cpu_kernels_select(void)
{
    static const cpu_kernels *const all[] = {
#ifdef CPU_KERNELS_X86
        &cpu_kernels_avx512,
        &cpu_kernels_avx2,
#endif
        &cpu_kernels_baseline,
    };
    const char *want = getenv("MFPO_CPU_ISA");
    for (size_t i = 0; want && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(want, all[i]->isa) == 0 && cpu_kernels_supported(want)) return all[i];
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (cpu_kernels_supported(all[i]->isa)) return all[i];
    return &cpu_kernels_baseline;
}
