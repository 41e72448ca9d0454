/*
 * Row-parallel loops of the CPU backend (and of lib/algo's host kernels, which run on the CPU
 * backend's memory): per-ISA clones of the hot loops and OpenMP chunking.
 */
#ifndef MFPO_BACKEND_CPU_ROWS_H
#define MFPO_BACKEND_CPU_ROWS_H

#include <stddef.h>

#include "../backend.h"

/* The elementwise passes are compiled for AVX-512, AVX2 and baseline x86-64, and the loader picks
 * the best the CPU supports (GNU ifunc), so one binary is fast everywhere. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(MFPO_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/*
 * Row-parallel loops. OpenMP splits rows [0, n) into one contiguous chunk per thread and each
 * chunk runs a HOT (per-ISA) worker: the OpenMP-outlined body itself would be compiled for the
 * baseline ISA only. Work below `min_rows * cols` elements stays on the calling thread, where
 * a fork would cost more than it saves. Results do not depend on the split: every row is
 * computed by itself, and cross-row sums are formed per chunk and added in chunk order.
 */
#define PAR_MIN_WORK 16384

static inline int chunk_count(const be_backend *be, size_t rows, size_t work_per_row)
{
#ifdef _OPENMP
    size_t work = rows * (work_per_row ? work_per_row : 1);
    if (be->threads <= 1 || rows < 2 || work < PAR_MIN_WORK) return 1;
    return be->threads < (int)rows ? be->threads : (int)rows;
#else
    (void)be, (void)rows, (void)work_per_row;
    return 1;
#endif
}

#ifdef _OPENMP
#define PARALLEL_CHUNKS _Pragma("omp parallel for schedule(static, 1) num_threads(chunks_)")
#else
#define PARALLEL_CHUNKS
#endif

/* Runs CALL (which sees lo, hi, chunk) for each chunk of [0, N) rows. */
#define FOR_CHUNKS(be, N, WORK_PER_ROW, CALL)                                  \
    do {                                                                        \
        size_t n_rows_ = (N);                                                   \
        int chunks_ = chunk_count((be), n_rows_, (WORK_PER_ROW));               \
        if (chunks_ <= 1) {                                                     \
            size_t lo = 0, hi = n_rows_;                                        \
            int chunk = 0;                                                      \
            (void)chunk;                                                        \
            CALL;                                                               \
        } else {                                                                \
            PARALLEL_CHUNKS                                                     \
            for (int chunk = 0; chunk < chunks_; chunk++) {                     \
                size_t lo = n_rows_ * (size_t)chunk / (size_t)chunks_;          \
                size_t hi = n_rows_ * (size_t)(chunk + 1) / (size_t)chunks_;    \
                CALL;                                                           \
            }                                                                   \
        }                                                                       \
    } while (0)

#endif
