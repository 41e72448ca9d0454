/*
 * The backend's error channel. Ops return no status of their own; one that fails (an allocation
 * inside an op, a device error) records the first failure on the backend, and the layer that
 * drove the ops reads it once (be_take_error) and reports it through mfpo_last_error. Backends
 * never print.
 */
#ifndef MFPO_BACKEND_ERROR_H
#define MFPO_BACKEND_ERROR_H

#include "backend.h"

/* Records `status` (an mfpo_status) and the formatted message, unless a failure is already pending. */
void be_set_error(be_backend *be, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The pending failure's status (0 when none) and message; clears it. */
int be_take_error(be_backend *be, char *message, size_t size);

#endif
