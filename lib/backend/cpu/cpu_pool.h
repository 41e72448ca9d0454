/*
 * The CPU backend's worker threads: one pool per backend (so per context), threads - 1 workers
 * plus the calling thread, used for the row loops and for row-split matrix products. OpenBLAS is
 * held at one thread: two pools (ours and OpenBLAS's) on the same cores made each wait on the
 * other's spinning workers (docs/performance.md), and OpenBLAS's count is process-wide, which made
 * one context's `threads` change another's results (docs/threads.md).
 *
 * Workers spin briefly after each task (the next one usually follows within microseconds), then
 * sleep on a condition variable, so an idle context costs no CPU.
 */
#ifndef MFPO_CPU_POOL_H
#define MFPO_CPU_POOL_H

#include <mfpo/context.h>

typedef struct cpu_pool cpu_pool;

/* Runs chunk `chunk` of `chunks` */
typedef void (*cpu_task_fn)(void *arg, int chunk, int chunks);

/* A pool of `workers` threads (0: none; every run then happens on the caller). Returns NULL when
 * memory or threads are short, with the reason in `reason`. */
cpu_pool *cpu_pool_create(const mfpo_allocator *allocator, int workers, char *reason, size_t reason_size);
void cpu_pool_destroy(cpu_pool *pool);

/* Number of threads a run uses: workers + 1 (1 for NULL). */
int cpu_pool_threads(const cpu_pool *pool);

/* fn(arg, c, chunks) for c = 0..chunks-1, chunk 0 on the calling thread, chunk c on worker c;
 * returns when all are done. chunks must not exceed cpu_pool_threads(pool). Not reentrant: the
 * pool belongs to one backend, which one thread uses at a time (docs/threads.md). */
void cpu_pool_run(cpu_pool *pool, int chunks, cpu_task_fn fn, void *arg);

#endif
