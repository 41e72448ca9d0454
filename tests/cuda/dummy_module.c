/*
 * Stand-ins for libmfpo-cuda.so in the selection tests (tests/cuda/test_select.c), so that every
 * way a module can be unusable is exercised without the CUDA runtime:
 *   built with -DFAKE_ENTRY: exports a valid descriptor whose probe refuses with a fixed reason;
 *   built with -DWRONG_ABI: exports a descriptor of another module ABI version;
 *   built with neither: a valid shared object without the descriptor.
 */
#include <stddef.h>
#include <stdio.h>

#include "backend/backend.h"

#if defined(FAKE_ENTRY) || defined(WRONG_ABI)
static int fake_probe(int device, char *reason, size_t reason_size)
{
    snprintf(reason, reason_size, "fake module refuses device %d", device);
    return -1;
}

static be_backend *fake_create(int device, int threads, char *reason, size_t reason_size)
{
    (void)threads;
    snprintf(reason, reason_size, "fake module cannot create on device %d", device);
    return NULL;
}

#if defined(WRONG_ABI)
#define FAKE_VERSION (BE_MODULE_ABI_VERSION + 7u)
#else
#define FAKE_VERSION BE_MODULE_ABI_VERSION
#endif

__attribute__((visibility("default"))) extern const be_module mfpo_backend_module;
const be_module mfpo_backend_module = { FAKE_VERSION, (uint32_t)sizeof(be_ops), "cuda", fake_probe, fake_create };
#else
__attribute__((visibility("default"))) int mfpo_not_a_backend(void);

__attribute__((visibility("default"))) int mfpo_not_a_backend(void)
{
    return 42;
}
#endif
