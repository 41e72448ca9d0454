/*
 * Stand-ins for libmfpo-cuda.so in the selection tests (tests/cuda/test_select.c), so that every
 * way a module can be unusable is exercised without the CUDA runtime:
 *   built with -DFAKE_ENTRY: exports the entry point, which refuses with a fixed reason;
 *   built without: a valid shared object that lacks the entry point.
 */
#include <stddef.h>
#include <stdio.h>

#if defined(FAKE_ENTRY)
__attribute__((visibility("default"))) void *mfpo_cuda_backend_create_v1(int device, int threads, char *reason,
                                                                          size_t reason_size);

__attribute__((visibility("default"))) void *mfpo_cuda_backend_create_v1(int device, int threads, char *reason,
                                                                          size_t reason_size)
{
    (void)threads;
    snprintf(reason, reason_size, "fake module refuses device %d", device);
    return NULL;
}
#else
__attribute__((visibility("default"))) int mfpo_not_a_backend(void);

__attribute__((visibility("default"))) int mfpo_not_a_backend(void)
{
    return 42;
}
#endif
