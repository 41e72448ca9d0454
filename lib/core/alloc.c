#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>

static void *default_alloc(void *user, size_t size, size_t align)
{
    void *p = NULL;
    (void)user;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0) return NULL;
    return p;
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

const mfpo_allocator core_default_allocator = { default_alloc, default_free, NULL };

void *core_alloc(const mfpo_allocator *a, size_t size, size_t align)
{
    if (size == 0) size = 1;
    return a->alloc(a->user, size, align);
}

void core_free(const mfpo_allocator *a, void *ptr)
{
    if (ptr) a->free(a->user, ptr);
}

size_t core_mul_size(size_t n, size_t size, int *overflow)
{
    if (size != 0 && n > SIZE_MAX / size) {
        *overflow = 1;
        return 0;
    }
    return n * size;
}
