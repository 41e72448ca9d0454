/* The CPU backend's worker pool (cpu_pool.h). */
#include "cpu_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../../core/alloc.h"

/* Spins of a waiting thread before it sleeps: about 20-50 microseconds, longer than the gap
 * between two row loops of an update and far shorter than the gap between two updates. */
#define SPIN_LIMIT 4000

struct cpu_pool {
    const mfpo_allocator *allocator;
    int workers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint generation; /* bumped once per run: the workers' signal to start */
    atomic_int pending;     /* workers that have not finished the current run */
    atomic_int sleeping;    /* workers waiting on `wake` */
    atomic_int stop;
    /* the current run (written before `generation` is bumped, read after it is seen) */
    cpu_task_fn fn;
    void *arg;
    int chunks;
};

typedef struct worker_start {
    cpu_pool *pool;
    int index; /* 1..workers: the chunk this worker runs */
} worker_start;

/* One step of a spin-wait. Every 64th step gives the core away, so that a thread waited for that
 * shares the core (more threads than cores, or a busy machine) gets to run. */
static void relax(unsigned *spins)
{
    if ((++*spins & 63) == 0) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until the generation differs from `seen` (or the pool stops); returns the new one. */
static unsigned wait_generation(cpu_pool *p, unsigned seen)
{
    for (unsigned spins = 0; spins < SPIN_LIMIT;) {
        unsigned g = atomic_load(&p->generation);
        if (g != seen || atomic_load(&p->stop)) return g;
        relax(&spins);
    }
    pthread_mutex_lock(&p->mu);
    /* `sleeping` is raised before the generation is read again: a run started after this read
     * sees sleeping > 0 and signals under the mutex, so the wake-up cannot be lost */
    atomic_fetch_add(&p->sleeping, 1);
    unsigned g;
    while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleeping, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *arg)
{
    worker_start *w = arg;
    cpu_pool *p = w->pool;
    int index = w->index;
    unsigned seen = 0;
    for (;;) {
        seen = wait_generation(p, seen);
        if (atomic_load(&p->stop)) break;
        if (index < p->chunks) p->fn(p->arg, index, p->chunks);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
    return NULL;
}

cpu_pool *cpu_pool_create(const mfpo_allocator *allocator, int workers, char *reason, size_t reason_size)
{
    if (workers < 0) workers = 0;
    cpu_pool *p = core_alloc(allocator, sizeof *p, 64);
    if (!p) {
        snprintf(reason, reason_size, "out of memory for the CPU worker pool");
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->allocator = allocator;
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleeping, 0);
    atomic_init(&p->stop, 0);
    if (workers == 0) return p;
    worker_start *starts = core_alloc(allocator, (size_t)workers * sizeof *starts, 64);
    p->tid = core_alloc(allocator, (size_t)workers * sizeof *p->tid, 64);
    if (!starts || !p->tid) {
        core_free(allocator, starts);
        core_free(allocator, p->tid);
        core_free(allocator, p);
        snprintf(reason, reason_size, "out of memory for %d CPU worker threads", workers);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (int i = 0; i < workers; i++) {
        starts[i].pool = p;
        starts[i].index = i + 1;
        int rc = pthread_create(&p->tid[i], NULL, worker_main, &starts[i]);
        if (rc != 0) {
            snprintf(reason, reason_size, "cannot start CPU worker thread %d of %d: %s", i + 1, workers, strerror(rc));
            p->workers = i;
            cpu_pool_destroy(p);
            core_free(allocator, starts);
            return NULL;
        }
    }
    p->workers = workers;
    /* the workers read their start record only before their first wait: wait for them once, so
     * that it can be freed (a run of zero-work chunks) */
    p->chunks = 0;
    p->fn = NULL;
    atomic_store(&p->pending, workers);
    atomic_fetch_add(&p->generation, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    unsigned spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) relax(&spins);
    core_free(allocator, starts);
    return p;
}

void cpu_pool_destroy(cpu_pool *p)
{
    if (!p) return;
    if (p->workers > 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->workers; i++) pthread_join(p->tid[i], NULL);
    }
    if (p->tid) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->wake);
    }
    core_free(p->allocator, p->tid);
    core_free(p->allocator, p);
}

int cpu_pool_threads(const cpu_pool *p)
{
    return p ? p->workers + 1 : 1;
}

void cpu_pool_run(cpu_pool *p, int chunks, cpu_task_fn fn, void *arg)
{
    if (!p || p->workers == 0 || chunks <= 1) {
        for (int c = 0; c < chunks; c++) fn(arg, c, chunks);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->chunks = chunks;
    atomic_store(&p->pending, p->workers);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: ordered before the read of `sleeping` */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, chunks);
    unsigned spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) relax(&spins);
}
