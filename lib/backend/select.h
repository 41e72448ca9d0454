#ifndef MFPO_BACKEND_SELECT_H
#define MFPO_BACKEND_SELECT_H

#include <mfpo/context.h>

#include "backend.h"

/* Reads MFPO_BACKEND into *kind: 1 when set and valid, 0 when unset, -1 (with reason) when invalid. */
int mfpo_backend_parse_env(mfpo_backend_kind *kind, char *reason, size_t n);

/* Creates the backend for `kind` (AUTO: CUDA if it loads and finds a device, else CPU). */
mfpo_status mfpo_backend_open(mfpo_backend_kind kind, const mfpo_allocator *allocator, int threads, int device,
                              mfpo_backend **out, void **module, mfpo_backend_kind *chosen, char *reason, size_t n);

void mfpo_backend_close(mfpo_backend *be, void *module);

#endif
