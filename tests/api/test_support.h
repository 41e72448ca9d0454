/* Helpers shared by the tests/api suites: a counting allocator and error-text assertions. */
#ifndef MFPO_TESTS_API_SUPPORT_H
#define MFPO_TESTS_API_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mfpo.h>

/* Fails the test unless `haystack` contains `needle`, printing both. */
#define assert_contains(haystack, needle)                                                                              \
    do {                                                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                                                   \
        if (!h_ || !strstr(h_, n_)) fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)");                     \
    } while (0)

/* Fails unless `call` returns `status`; prints the last error text of `ctx` otherwise. */
#define assert_status(call, status, ctx)                                                                               \
    do {                                                                                                               \
        mfpo_status got_ = (call);                                                                                     \
        if (got_ != (status))                                                                                          \
            fail_msg("%s returned %d (%s), expected %d; last error: %s", #call, (int)got_, mfpo_status_string(got_),   \
                     (int)(status), mfpo_last_error(ctx));                                                             \
    } while (0)

/* ---------------------------------------------------------------- counting allocator */

#define COUNTING_MAX_BLOCKS 4096

typedef struct counting_allocator {
    size_t allocs, frees;          /* successful calls */
    size_t live_bytes, peak_bytes; /* bytes currently held */
    size_t fail_after;             /* refuse every allocation once `allocs` reached this (0 = never) */
    size_t refuse_above;           /* refuse sizes above this (0 = never) */
    size_t bad_frees;              /* frees of pointers never returned, or returned twice */
    size_t misaligned;             /* returned blocks not aligned as asked (must stay 0) */
    size_t bad_align_requests;     /* align not a power of two or above 4096 */
    void *ptr[COUNTING_MAX_BLOCKS];
    size_t size[COUNTING_MAX_BLOCKS];
} counting_allocator;

static inline void *counting_alloc(void *user, size_t size, size_t align)
{
    counting_allocator *c = user;
    void *p = NULL;
    if (align == 0 || (align & (align - 1)) || align > 4096) c->bad_align_requests++;
    if (c->fail_after && c->allocs >= c->fail_after) return NULL;
    if (c->refuse_above && size > c->refuse_above) return NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0) return NULL;
    if ((uintptr_t)p % align) c->misaligned++;
    for (size_t i = 0; i < COUNTING_MAX_BLOCKS; i++)
        if (!c->ptr[i]) {
            c->ptr[i] = p;
            c->size[i] = size;
            break;
        }
    c->allocs++;
    c->live_bytes += size;
    if (c->live_bytes > c->peak_bytes) c->peak_bytes = c->live_bytes;
    return p;
}

static inline void counting_free(void *user, void *ptr)
{
    counting_allocator *c = user;
    for (size_t i = 0; i < COUNTING_MAX_BLOCKS; i++)
        if (c->ptr[i] == ptr) {
            c->ptr[i] = NULL;
            c->live_bytes -= c->size[i];
            c->frees++;
            free(ptr);
            return;
        }
    c->bad_frees++; /* leaked on purpose: freeing an unknown pointer could crash the test */
}

static inline mfpo_allocator counting_allocator_iface(counting_allocator *c)
{
    mfpo_allocator a;
    a.alloc = counting_alloc;
    a.free = counting_free;
    a.user = c;
    return a;
}

/* Every block returned was released exactly once, and every request was well-formed. */
static inline void assert_counting_balanced(const counting_allocator *c)
{
    assert_int_equal(c->allocs, c->frees);
    assert_int_equal(c->live_bytes, 0);
    assert_int_equal(c->bad_frees, 0);
    assert_int_equal(c->misaligned, 0);
    assert_int_equal(c->bad_align_requests, 0);
}

/* A CPU context with a fixed seed; the environment cannot redirect it (tests unset MFPO_BACKEND). */
static inline mfpo_context *cpu_context(uint64_t seed, const mfpo_allocator *allocator)
{
    mfpo_context_options o;
    mfpo_context *ctx = NULL;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    o.seed = seed;
    o.allocator = allocator;
    if (mfpo_context_create(&o, &ctx) != MFPO_OK) fail_msg("context: %s", mfpo_last_error(NULL));
    return ctx;
}

#endif
