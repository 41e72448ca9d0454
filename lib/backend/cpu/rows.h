/*
 * Row-parallel loops of the CPU backend, and of lib/algo's host kernels, which run on the CPU
 * backend's memory: per-ISA clones of the loops left to the compiler, the explicit-vector kernels
 * (cpu_kernels.h), and the backend's worker pool (cpu_pool.h).
 */
#ifndef MFPO_BACKEND_CPU_ROWS_H
#define MFPO_BACKEND_CPU_ROWS_H

#include <stddef.h>

#include "../backend.h"
#include "cpu_kernels.h"
#include "cpu_pool.h"

/* The loops left to the auto-vectoriser are compiled for AVX-512, AVX2 and baseline x86-64, and the
 * loader picks the best the CPU supports (GNU ifunc). The hottest loops are written with explicit
 * vectors in cpu_kernels.c, compiled per instruction set and chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(MFPO_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/*
 * Row-parallel loops. Rows [0, n) are split into one contiguous chunk per thread of the CPU
 * backend's pool; work below PAR_MIN_WORK elements stays on the calling thread, where a hand-off
 * would cost more than it saves. Results do not depend on the split: every row is computed by
 * itself, and cross-row sums are formed per chunk and added in chunk order.
 *
 * Each parallel operation has an argument record and a chunk function (C has no closures):
 * be_cpu_run_rows() calls fn(args, chunk, chunks) on every chunk, and the chunk function takes its
 * rows with CHUNK_ROWS. One thread runs the whole range as chunk 0 of 1, and so does any backend
 * other than the CPU one (lib/algo's generic kernels run the host loops on downloaded copies).
 */
#define PAR_MIN_WORK 16384

/* The number of chunks for `rows` rows of `work_per_row` elements on `be` */
int be_cpu_chunks(be_backend *be, size_t rows, size_t work_per_row);

/* fn(args, c, chunks) for c = 0..chunks-1 on the pool of `be` (on the caller for another backend) */
void be_cpu_run(be_backend *be, int chunks, cpu_task_fn fn, void *args);

static inline void be_cpu_run_rows(be_backend *be, size_t rows, size_t work_per_row, cpu_task_fn fn, void *args)
{
    be_cpu_run(be, be_cpu_chunks(be, rows, work_per_row), fn, args);
}

/* First row of chunk c of `chunks` over n rows (chunk c ends where c + 1 begins). */
static inline size_t be_chunk_lo(size_t n, int c, int chunks)
{
    return n * (size_t)c / (size_t)chunks;
}

/* In a chunk function with parameters (chunk, chunks): this chunk's rows of n, as lo and hi */
#define CHUNK_ROWS(n) size_t lo = be_chunk_lo((n), chunk, chunks), hi = be_chunk_lo((n), chunk + 1, chunks)

/* The explicit-vector kernels for this CPU: those `be` chose, or the best for a non-CPU backend */
const cpu_kernels *be_cpu_kernels(be_backend *be);

#endif
