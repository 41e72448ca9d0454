#ifndef MFPO_BACKEND_SELECT_H
#define MFPO_BACKEND_SELECT_H

#include <mfpo/context.h>

#include "backend.h"

/* Reads MFPO_BACKEND into *kind: 1 when set and valid, 0 when unset, -1 (with reason) when invalid. */
int be_parse_env(mfpo_backend_kind *kind, char *reason, size_t n);

/* Creates the backend for `kind` (AUTO: CUDA if it loads and finds a device, else CPU). */
mfpo_status be_open(mfpo_backend_kind kind, const mfpo_allocator *allocator, int threads, int device, be_backend **out,
                    void **module, mfpo_backend_kind *chosen, char *reason, size_t n);

void be_close(be_backend *be, void *module);

#endif
