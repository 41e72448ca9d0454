/*
 * Crash-safe file replacement for the checkpoints (docs/checkpoint-format.md, "Atomicity"):
 * the new contents go to a temporary file in the destination's directory, which is written with
 * write(2) (no user-space buffering, so nothing is left to flush), fsync'ed, closed and renamed
 * over the destination; then the directory itself is fsync'ed so that the rename is durable.
 * A crash at any point leaves either the old file or the new one at the path, never a mix; at
 * worst a stray temporary file named "<path>.tmp-<pid>-<n>" remains next to it.
 *
 * Every failure is recorded on the context as MFPO_ERR_IO with the path and strerror's text.
 */
#ifndef MFPO_IO_ATOMIC_FILE_H
#define MFPO_IO_ATOMIC_FILE_H

#include <stddef.h>

#include "../core/ctx.h"

typedef struct io_atomic_file {
    mfpo_context *ctx;
    const char *who;  /* the exported function, for messages */
    const char *path; /* the destination (the caller's string, not copied) */
    char *tmp_path;   /* context allocator */
    int fd;
} io_atomic_file;

/* Creates the temporary file next to `path`. On error nothing is left behind. */
mfpo_status io_atomic_begin(io_atomic_file *f, mfpo_context *ctx, const char *who, const char *path);

/* Writes all n bytes (retrying short writes and EINTR). On error the file must be aborted. */
mfpo_status io_atomic_write(io_atomic_file *f, const void *buf, size_t n);

/* fsync, close, rename over the destination, fsync of the directory. On error the temporary
 * file is removed (the destination is then the old file, or, when only the directory sync
 * failed, already the new one) and everything is released. */
mfpo_status io_atomic_commit(io_atomic_file *f);

/* Closes and removes the temporary file; releases everything. Safe after a failed begin. */
void io_atomic_abort(io_atomic_file *f);

/* strerror(err) into buf, thread-safely. Returns buf. */
const char *io_errno_text(int err, char *buf, size_t size);

#endif
