/*
 * Shared pieces of the libFuzzer targets (tests/fuzz/README.md): a byte reader that turns the
 * fuzzer's input into choices, a capped allocator that makes huge-but-valid sizes fail with
 * MFPO_ERR_OUT_OF_MEMORY instead of exhausting the fuzzer's memory, and the invariant check that
 * every failing call leaves a non-empty last-error text.
 *
 * Violations call fuzz_violation(), which prints the reason and aborts: libFuzzer (or the corpus
 * replay driver) reports the input as a crash.
 */
#ifndef MFPO_TESTS_FUZZ_COMMON_H
#define MFPO_TESTS_FUZZ_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#include "core/ctx.h"

static void fuzz_violation(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

static void fuzz_violation(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FUZZ INVARIANT VIOLATED: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ------------------------------------------------------------------ input reader */

typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fz_u8(fuzz_in *in)
{
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fuzz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)fz_u8(in) << (8 * i);
    return v;
}

static inline uint64_t fz_u64(fuzz_in *in)
{
    uint64_t lo = fz_u32(in); /* two statements: the order of the reads is fixed */
    uint64_t hi = fz_u32(in);
    return lo | hi << 32;
}

/* One of n choices. */
static inline unsigned fz_pick(fuzz_in *in, unsigned n)
{
    return n ? fz_u8(in) % n : 0;
}

/* A size: mostly small, sometimes hostile. */
static inline size_t fz_size(fuzz_in *in)
{
    static const size_t table[] = { 0,
                                    1,
                                    2,
                                    3,
                                    4,
                                    5,
                                    7,
                                    8,
                                    16,
                                    33,
                                    1024,
                                    (size_t)1 << 20,
                                    (size_t)1 << 31,
                                    (size_t)1 << 40,
                                    SIZE_MAX / 4 + 1,
                                    SIZE_MAX / 2,
                                    SIZE_MAX - 1,
                                    SIZE_MAX };
    return table[fz_pick(in, sizeof table / sizeof table[0])];
}

/* A float: ordinary values and every kind of hostile one. */
static inline float fz_float(fuzz_in *in)
{
    static const float table[] = { 0.0f,     -0.0f,     1.0f,          -1.0f,          0.5f,   0.25f,
                                   2.0f,     1e-8f,     1e-30f,        1.4e-45f,       0.99f,  3e-4f,
                                   1e30f,    -1e30f,    3.4028235e38f, -3.4028235e38f, NAN,    -NAN,
                                   INFINITY, -INFINITY, 100.0f,        -1600.0f,       1600.0f };
    unsigned k = fz_pick(in, sizeof table / sizeof table[0] + 1);
    if (k < sizeof table / sizeof table[0]) return table[k];
    uint32_t bits = fz_u32(in);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline int fz_int(fuzz_in *in)
{
    static const int table[] = { 0, 1, -1, 2, 3, 1024, -1024, 2147483647, -2147483647 - 1 };
    return table[fz_pick(in, sizeof table / sizeof table[0])];
}

/* ------------------------------------------------------------------ capped allocator */

/* Refuses single blocks above 64 MiB and more than 512 MiB live: a configuration that is valid
 * but huge then fails with MFPO_ERR_OUT_OF_MEMORY, a path worth exercising anyway. */
#define FUZZ_MAX_BLOCK ((size_t)64 << 20)
#define FUZZ_MAX_LIVE ((size_t)512 << 20)

typedef struct fuzz_alloc {
    size_t live;
    int fail_next; /* refuse this many more allocations (fault injection) */
} fuzz_alloc;

/* Live blocks and their sizes, so that free can account for them. */
#define FUZZ_MAX_BLOCKS 8192
static void *fuzz_blocks[FUZZ_MAX_BLOCKS];
static size_t fuzz_block_size[FUZZ_MAX_BLOCKS];

static void *fuzz_alloc_tracked(void *user, size_t size, size_t align)
{
    fuzz_alloc *a = user;
    if (a->fail_next > 0) {
        a->fail_next--;
        return NULL;
    }
    if (size > FUZZ_MAX_BLOCK || a->live + size > FUZZ_MAX_LIVE) return NULL;
    size_t slot = 0;
    while (slot < FUZZ_MAX_BLOCKS && fuzz_blocks[slot]) slot++;
    if (slot == FUZZ_MAX_BLOCKS) return NULL;
    void *p = NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0) return NULL;
    fuzz_blocks[slot] = p;
    fuzz_block_size[slot] = size;
    a->live += size;
    return p;
}

static void fuzz_free_tracked(void *user, void *ptr)
{
    fuzz_alloc *a = user;
    for (size_t i = 0; i < FUZZ_MAX_BLOCKS; i++)
        if (fuzz_blocks[i] == ptr) {
            a->live -= fuzz_block_size[i];
            fuzz_blocks[i] = NULL;
            free(ptr);
            return;
        }
    fuzz_violation("the library freed %p, which its allocator never returned (or freed it twice)", ptr);
}

/* ------------------------------------------------------------------ error-text invariant */

/* Clears the error texts of the given contexts and of this thread before a call. */
static inline void fz_clear_errors(mfpo_context *const *ctxs, size_t n)
{
    core_clear_error(NULL);
    for (size_t i = 0; i < n; i++)
        if (ctxs[i]) core_clear_error(ctxs[i]);
}

/* A call that failed must have left a message on `where` (its handle's context, or NULL for the
 * thread's text when the handle itself was NULL); the status must be a known code. */
/* Per-call tallies of OK and failing results, printed at exit when MFPO_FUZZ_STATS is set (to see
 * what a corpus reaches: e.g. how many updates or training runs succeed). */
#define FZ_MAX_CALLS 64
static const char *fz_call_names[FZ_MAX_CALLS];
static unsigned long fz_call_ok[FZ_MAX_CALLS], fz_call_err[FZ_MAX_CALLS];

static void fz_print_stats(void)
{
    for (int i = 0; i < FZ_MAX_CALLS && fz_call_names[i]; i++)
        fprintf(stderr, "%-32s ok %8lu  failed %8lu\n", fz_call_names[i], fz_call_ok[i], fz_call_err[i]);
}

static inline void fz_tally(const char *call, int ok)
{
    static int registered;
    if (!registered) {
        registered = 1;
        if (getenv("MFPO_FUZZ_STATS")) atexit(fz_print_stats);
    }
    for (int i = 0; i < FZ_MAX_CALLS; i++) {
        if (!fz_call_names[i]) fz_call_names[i] = call;
        if (fz_call_names[i] == call || !strcmp(fz_call_names[i], call)) {
            (ok ? fz_call_ok : fz_call_err)[i]++;
            return;
        }
    }
}

static inline void fz_check(const char *call, mfpo_status s, const mfpo_context *where)
{
    fz_tally(call, s == MFPO_OK);
    static int trace = -1;
    if (trace < 0) trace = getenv("MFPO_FUZZ_TRACE") != NULL;
    if (trace) fprintf(stderr, "  %s -> %d %s\n", call, (int)s, s == MFPO_OK ? "" : mfpo_last_error(where));
    if ((int)s < 0 || (int)s > (int)MFPO_ERR_STATE) fuzz_violation("%s returned the unknown status %d", call, (int)s);
    if (s == MFPO_OK) return;
    const char *msg = mfpo_last_error(where);
    if (!msg || !msg[0])
        fuzz_violation("%s returned %d (%s) but mfpo_last_error(%s) is empty (thread text: \"%s\")", call, (int)s,
                       mfpo_status_string(s), where ? "ctx" : "NULL", mfpo_last_error(NULL));
}

#endif
