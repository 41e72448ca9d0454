/* Crash-safe replacement of a file: temporary file, fsync, rename, fsync of the directory. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "../core/alloc.h"

/* Distinguishes the temporary files of concurrent saves within one process. */
static atomic_ulong tmp_counter;

const char *io_errno_text(int err, char *buf, size_t size)
{
    if (size == 0) return buf;
    buf[0] = '\0';
    if (strerror_r(err, buf, size) != 0 || buf[0] == '\0') snprintf(buf, size, "error %d", err);
    return buf;
}

static mfpo_status io_fail(io_atomic_file *f, int err, const char *what, const char *path)
{
    char text[128];
    return core_fail(f->ctx, MFPO_ERR_IO, "%s: %s '%s': %s", f->who, what, path, io_errno_text(err, text, sizeof text));
}

static void release(io_atomic_file *f)
{
    if (f->tmp_path) core_free(&f->ctx->allocator, f->tmp_path);
    f->tmp_path = NULL;
    f->fd = -1;
}

mfpo_status io_atomic_begin(io_atomic_file *f, mfpo_context *ctx, const char *who, const char *path)
{
    f->ctx = ctx;
    f->who = who;
    f->path = path;
    f->fd = -1;
    /* An existing target must be a regular file, as the loaders require: renaming over a symbolic
     * link, FIFO, device or directory would replace it (or fail late). */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return core_fail(ctx, MFPO_ERR_IO, "%s: '%s' exists and is not a regular file (%s); nothing was written", who,
                         path,
                         S_ISLNK(st.st_mode)                          ? "a symbolic link"
                         : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                         : S_ISDIR(st.st_mode)                        ? "a directory"
                         : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                      : "a socket or other special file");
    size_t len = strlen(path), cap = len + 64;
    f->tmp_path = core_alloc(&ctx->allocator, cap, 16);
    if (!f->tmp_path)
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for the temporary file name of '%s'", who,
                         path);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long n = atomic_fetch_add(&tmp_counter, 1);
        snprintf(f->tmp_path, cap, "%s.tmp-%ld-%lu", path, (long)getpid(), n);
        f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (f->fd >= 0) return MFPO_OK;
        if (errno != EEXIST && errno != EINTR) break;
    }
    int err = errno;
    mfpo_status s = io_fail(f, err, "cannot create a temporary file next to", path);
    release(f);
    return s;
}

mfpo_status io_atomic_write(io_atomic_file *f, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = write(f->fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return io_fail(f, errno, "cannot write the temporary file", f->tmp_path);
        }
        if (w == 0) return io_fail(f, EIO, "cannot write the temporary file", f->tmp_path);
        p += w;
        n -= (size_t)w;
    }
    return MFPO_OK;
}

void io_atomic_abort(io_atomic_file *f)
{
    if (f->fd >= 0) close(f->fd);
    if (f->tmp_path) unlink(f->tmp_path);
    release(f);
}

/* Opens the directory holding `path` (for fsync after the rename). */
static int open_parent(io_atomic_file *f, char *dir, size_t cap)
{
    const char *slash = strrchr(f->path, '/');
    if (!slash) {
        snprintf(dir, cap, ".");
    } else if (slash == f->path) {
        snprintf(dir, cap, "/");
    } else {
        size_t n = (size_t)(slash - f->path);
        if (n >= cap) n = cap - 1;
        memcpy(dir, f->path, n);
        dir[n] = '\0';
    }
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

mfpo_status io_atomic_commit(io_atomic_file *f)
{
    if (fsync(f->fd) != 0) {
        mfpo_status s = io_fail(f, errno, "cannot fsync the temporary file", f->tmp_path);
        io_atomic_abort(f);
        return s;
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) {
        mfpo_status s = io_fail(f, errno, "cannot close the temporary file", f->tmp_path);
        io_atomic_abort(f);
        return s;
    }
    if (rename(f->tmp_path, f->path) != 0) {
        int err = errno;
        char text[128];
        mfpo_status s = core_fail(f->ctx, MFPO_ERR_IO, "%s: cannot rename '%s' to '%s': %s", f->who, f->tmp_path,
                                  f->path, io_errno_text(err, text, sizeof text));
        io_atomic_abort(f);
        return s;
    }
    /* the new file is in place; make the directory entry durable */
    char dir[4096];
    int dfd = open_parent(f, dir, sizeof dir);
    mfpo_status s = MFPO_OK;
    if (dfd < 0) {
        s = io_fail(f, errno, "cannot open the directory", dir);
    } else {
        /* some file systems refuse fsync on directories; the data itself is synced already */
        if (fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP)
            s = io_fail(f, errno, "cannot fsync the directory", dir);
        close(dfd);
    }
    release(f);
    return s;
}
