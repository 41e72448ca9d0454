/**
 * @file status.h
 * @brief Status codes returned by every fallible call, and their fixed descriptions.
 */
#ifndef MFPO_STATUS_H
#define MFPO_STATUS_H

#include "export.h"

MFPO_BEGIN_DECLS

/**
 * Result of every fallible libmfpo call. The numeric values are part of the ABI and never change;
 * new codes are only appended. The context's last-error text (mfpo_last_error()) says more.
 */
typedef enum mfpo_status {
    MFPO_OK = 0,                      /**< Success. */
    MFPO_ERR_INVALID_ARGUMENT = 1,    /**< An argument was NULL, out of range or inconsistent. */
    MFPO_ERR_OUT_OF_MEMORY = 2,       /**< An allocation failed (host or device). */
    MFPO_ERR_BACKEND_UNAVAILABLE = 3, /**< The requested backend cannot run here. */
    MFPO_ERR_NON_FINITE = 4,          /**< A loss, gradient or input became NaN or infinite. */
    MFPO_ERR_IO = 5,                  /**< A file could not be opened, written or synced. */
    MFPO_ERR_FORMAT = 6,              /**< A file is truncated, corrupt, of another version or shape. */
    MFPO_ERR_ENV = 7,                 /**< An environment callback failed or returned non-finite data. */
    MFPO_ERR_CANCELLED = 8,           /**< A progress callback asked to stop. */
    MFPO_ERR_STATE = 9,               /**< The call is not valid in the object's current state. */
    MFPO_ERR_COMM = 10                /**< A collective hook (all-reduce, broadcast) failed (parallel.h). */
} mfpo_status;

/** @return a fixed, human-readable description of @p status (never NULL). */
MFPO_API const char *mfpo_status_string(mfpo_status status);

MFPO_END_DECLS

#endif
