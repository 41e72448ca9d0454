/* Host allocation through the context's (possibly user-supplied) allocator. */
#ifndef MFPO_CORE_ALLOC_H
#define MFPO_CORE_ALLOC_H

#include <stddef.h>

#include <mfpo/context.h>

/* The C library's aligned allocator, used when the user gives none. */
extern const mfpo_allocator core_default_allocator;

/* size bytes aligned to align (a power of two); NULL on failure or overflow. */
void *core_alloc(const mfpo_allocator *a, size_t size, size_t align);
void core_free(const mfpo_allocator *a, void *ptr);

/* n * size, or 0 with *overflow set when it does not fit size_t. */
size_t core_mul_size(size_t n, size_t size, int *overflow);

#endif
