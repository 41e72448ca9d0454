/*
 * libmfpo-mpi (mpi/mfpo_mpi.h): the agent's gradient all-reduce as MPI_Allreduce, the initial
 * broadcast, per-rank seeds, rank-failure handling and checkpoints of a data-parallel run.
 */
#define _POSIX_C_SOURCE 200809L
#include "mfpo_mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERR_SIZE 512

struct mfpo_mpi {
    MPI_Comm comm; /* private duplicate: errors return instead of aborting, and no tag clashes */
    int rank, size;
    mfpo_context *ctx;
    mfpo_agent *agent;
    char error[ERR_SIZE];
};

static char setup_error[ERR_SIZE];

static void set_error(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, ERR_SIZE, fmt, ap);
    va_end(ap);
}

static void mpi_error_text(int rc, char *out, size_t n)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", rc);
    snprintf(out, n, "%s", text);
}

/* ------------------------------------------------------------------ the hooks */

/* MPI counts are int: a buffer beyond INT_MAX floats goes in pieces (not at the paper's sizes). */
static int allreduce_hook(void *user, float *buf, size_t count)
{
    mfpo_mpi *m = user;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, m->comm);
        if (rc != MPI_SUCCESS) {
            char why[MPI_MAX_ERROR_STRING];
            mpi_error_text(rc, why, sizeof why);
            set_error(m->error, "rank %d of %d: MPI_Allreduce of %d floats failed: %s", m->rank, m->size, n, why);
            return rc;
        }
        buf += n;
        count -= (size_t)n;
    }
    return 0;
}

static int broadcast_hook(void *user, float *buf, size_t count)
{
    mfpo_mpi *m = user;
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        int rc = MPI_Bcast(buf, n, MPI_FLOAT, 0, m->comm);
        if (rc != MPI_SUCCESS) {
            char why[MPI_MAX_ERROR_STRING];
            mpi_error_text(rc, why, sizeof why);
            set_error(m->error, "rank %d of %d: MPI_Bcast of the agent state failed: %s", m->rank, m->size, why);
            return rc;
        }
        buf += n;
        count -= (size_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------------ rank failure */

/* The runtime (Open MPI's mpirun) sends SIGTERM to the surviving ranks when one rank dies; the
 * handler says which rank stopped and why, with async-signal-safe calls only. */
static char signal_prefix[96];
static size_t signal_prefix_len;

static void on_signal(int sig)
{
    char tail[96];
    size_t n = 0;
    char digits[8];
    int d = 0, s = sig;
    do {
        digits[d++] = (char)('0' + s % 10);
        s /= 10;
    } while (s > 0 && d < 7);
    while (d > 0) tail[n++] = digits[--d];
    static const char rest[] = " (another rank failed or the job was cancelled)\n";
    memcpy(tail + n, rest, sizeof rest - 1);
    n += sizeof rest - 1;
    ssize_t w = write(STDERR_FILENO, signal_prefix, signal_prefix_len);
    w = write(STDERR_FILENO, tail, n);
    (void)w;
    _exit(1);
}

static void install_signal_handlers(int rank, int size)
{
    int n = snprintf(signal_prefix, sizeof signal_prefix, "mfpo-mpi: rank %d of %d stopped by signal ", rank, size);
    signal_prefix_len = n > 0 ? (size_t)n : 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

void mfpo_mpi_abort(const mfpo_mpi *m, int code, const char *fmt, ...)
{
    int rank = -1, size = 0;
    if (m) {
        rank = m->rank;
        size = m->size;
    } else {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    char msg[ERR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mfpo-mpi: rank %d of %d failed: %s\n", rank, size, msg);
    fflush(stderr);
    MPI_Abort(m ? m->comm : MPI_COMM_WORLD, code ? code : 1);
    _exit(code ? code : 1); /* MPI_Abort does not return; this keeps the noreturn promise */
}

/* ------------------------------------------------------------------ set-up */

uint64_t mfpo_mpi_rank_seed(uint64_t seed, int rank)
{
    if (rank == 0) return seed;
    uint64_t x = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(unsigned)rank);
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int mfpo_mpi_rank(const mfpo_mpi *m)
{
    return m ? m->rank : -1;
}

int mfpo_mpi_size(const mfpo_mpi *m)
{
    return m ? m->size : 0;
}

const char *mfpo_mpi_last_error(const mfpo_mpi *m)
{
    return m ? m->error : setup_error;
}

/* Combines a status over the ranks: the largest code wins, with the lowest rank that had it. */
static mfpo_status agree(mfpo_mpi *m, mfpo_status s, int *failed_rank)
{
    int in[2] = { (int)s, -m->rank }, out[2] = { (int)s, -m->rank };
    if (MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MAXLOC, m->comm) != MPI_SUCCESS) return MFPO_ERR_COMM;
    if (failed_rank) *failed_rank = -out[1];
    return (mfpo_status)out[0];
}

mfpo_status mfpo_mpi_setup(mfpo_context *ctx, mfpo_agent *agent, MPI_Comm comm, mfpo_mpi **out)
{
    if (!out) {
        set_error(setup_error, "mfpo_mpi_setup: argument 'out' is NULL");
        return MFPO_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!ctx || !agent) {
        set_error(setup_error, "mfpo_mpi_setup: argument '%s' is NULL", !ctx ? "ctx" : "agent");
        return MFPO_ERR_INVALID_ARGUMENT;
    }
    mfpo_mpi *m = calloc(1, sizeof *m);
    if (!m) {
        set_error(setup_error, "mfpo_mpi_setup: out of memory");
        return MFPO_ERR_OUT_OF_MEMORY;
    }
    if (MPI_Comm_dup(comm, &m->comm) != MPI_SUCCESS) {
        free(m);
        set_error(setup_error, "mfpo_mpi_setup: MPI_Comm_dup failed");
        return MFPO_ERR_COMM;
    }
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(m->comm, &m->rank);
    MPI_Comm_size(m->comm, &m->size);
    m->ctx = ctx;
    m->agent = agent;

    mfpo_status s = MFPO_OK;
    /* the hooks get the backend's buffers: host memory, which MPI can send, only on the CPU backend */
    if (mfpo_context_backend(ctx) != MFPO_BACKEND_CPU) {
        set_error(m->error,
                  "rank %d of %d: the context's backend is not the CPU (MPI needs host buffers; the "
                  "CUDA path is NCCL, docs/distributed.md)",
                  m->rank, m->size);
        s = MFPO_ERR_INVALID_ARGUMENT;
    }
    /* every rank must hold an agent of the same shape */
    unsigned long long mine = (unsigned long long)mfpo_agent_state_size(agent), lo = 0, hi = 0;
    MPI_Allreduce(&mine, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, m->comm);
    MPI_Allreduce(&mine, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, m->comm);
    if (s == MFPO_OK && lo != hi) {
        set_error(m->error, "rank %d of %d: the agents differ in size across ranks (%llu to %llu floats)", m->rank,
                  m->size, lo, hi);
        s = MFPO_ERR_INVALID_ARGUMENT;
    }
    int failed = 0;
    s = agree(m, s, &failed);
    if (s == MFPO_OK) {
        s = mfpo_agent_broadcast_state(agent, broadcast_hook, m);
        if (s != MFPO_OK && !m->error[0])
            set_error(m->error, "rank %d of %d: %s", m->rank, m->size, mfpo_last_error(ctx));
        s = agree(m, s, &failed);
    }
    if (s == MFPO_OK) s = mfpo_agent_set_allreduce(agent, allreduce_hook, m, m->size);
    if (s != MFPO_OK) {
        if (m->error[0])
            set_error(setup_error, "mfpo_mpi_setup: %s", m->error);
        else
            set_error(setup_error, "mfpo_mpi_setup: rank %d failed (%s)", failed, mfpo_status_string(s));
        MPI_Comm_free(&m->comm);
        free(m);
        return s;
    }
    install_signal_handlers(m->rank, m->size);
    *out = m;
    return MFPO_OK;
}

void mfpo_mpi_destroy(mfpo_mpi *m)
{
    if (!m) return;
    mfpo_agent_set_allreduce(m->agent, NULL, NULL, 1);
    MPI_Comm_free(&m->comm);
    free(m);
}

/* ------------------------------------------------------------------ checkpoints */

/* Writes a small text file atomically: temporary file, fsync, rename, fsync of the directory. */
static int write_atomic(const char *dir, const char *path, const char *text, char *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        set_error(err, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        set_error(err, "cannot write %s: %s", path, strerror(ok ? errno : e));
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void ckpt_path(char *out, size_t n, const char *dir, uint64_t tag, const char *what, int rank)
{
    if (rank < 0)
        snprintf(out, n, "%s/ckpt-%" PRIu64 ".%s", dir, tag, what);
    else
        snprintf(out, n, "%s/ckpt-%" PRIu64 ".%s.%d", dir, tag, what, rank);
}

/* Reads DIR/LATEST: 1 and the tag when it names a checkpoint, 0 when there is none. */
static int read_latest(const char *dir, uint64_t *tag)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/LATEST", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fscanf(f, "%" SCNu64, tag) == 1;
    fclose(f);
    return ok;
}

/* Failures of a collective checkpoint step: every rank learns the first failing rank's status;
 * a rank whose own part succeeded names the one that failed. */
static mfpo_status agree_named(mfpo_mpi *m, mfpo_status s, const char *what)
{
    int failed = 0;
    mfpo_status all = agree(m, s, &failed);
    if (all != MFPO_OK && s == MFPO_OK)
        set_error(m->error, "rank %d of %d: %s failed on rank %d (%s)", m->rank, m->size, what, failed,
                  mfpo_status_string(all));
    return all;
}

mfpo_status mfpo_mpi_save(mfpo_mpi *m, const mfpo_agent *agent, const mfpo_replay *replay, const char *dir,
                          uint64_t tag)
{
    if (!m) return MFPO_ERR_INVALID_ARGUMENT;
    mfpo_status s = MFPO_OK;
    m->error[0] = '\0';
    if (!agent || !replay || !dir) {
        set_error(m->error, "rank %d: mfpo_mpi_save: argument '%s' is NULL", m->rank,
                  !agent    ? "agent"
                  : !replay ? "replay"
                            : "dir");
        s = MFPO_ERR_INVALID_ARGUMENT;
    }
    char path[PATH_MAX];
    uint64_t old = 0;
    int had_old = s == MFPO_OK && read_latest(dir, &old) && old != tag;
    if (s == MFPO_OK && m->rank == 0) {
        ckpt_path(path, sizeof path, dir, tag, "agent", -1);
        s = mfpo_agent_save(agent, path);
        if (s != MFPO_OK) set_error(m->error, "rank 0: %s", mfpo_last_error(m->ctx));
    }
    if (s == MFPO_OK) {
        ckpt_path(path, sizeof path, dir, tag, "replay", m->rank);
        s = mfpo_replay_save(replay, path);
        if (s != MFPO_OK) set_error(m->error, "rank %d: %s", m->rank, mfpo_last_error(m->ctx));
    }
    if (s == MFPO_OK) {
        /* the agent file carries rank 0's random position; every rank keeps its own beside its shard */
        uint64_t seed = 0, stream = 0;
        char text[64];
        mfpo_context_get_random_position(m->ctx, &seed, &stream);
        snprintf(text, sizeof text, "%" PRIu64 " %" PRIu64 "\n", seed, stream);
        ckpt_path(path, sizeof path, dir, tag, "rng", m->rank);
        char why[ERR_SIZE];
        if (write_atomic(dir, path, text, why) != 0) {
            set_error(m->error, "rank %d: %s", m->rank, why);
            s = MFPO_ERR_IO;
        }
    }
    s = agree_named(m, s, "writing the checkpoint");
    if (s != MFPO_OK) return s; /* LATEST still names the previous, complete checkpoint */
    if (m->rank == 0) {
        char latest[PATH_MAX], text[32], why[ERR_SIZE];
        snprintf(latest, sizeof latest, "%s/LATEST", dir);
        snprintf(text, sizeof text, "%" PRIu64 "\n", tag);
        if (write_atomic(dir, latest, text, why) != 0) {
            set_error(m->error, "rank 0: %s", why);
            s = MFPO_ERR_IO;
        }
    }
    s = agree_named(m, s, "updating LATEST");
    if (s == MFPO_OK && had_old) {
        /* the previous checkpoint is superseded: each rank removes its own files of it */
        if (m->rank == 0) {
            ckpt_path(path, sizeof path, dir, old, "agent", -1);
            unlink(path);
        }
        ckpt_path(path, sizeof path, dir, old, "replay", m->rank);
        unlink(path);
        ckpt_path(path, sizeof path, dir, old, "rng", m->rank);
        unlink(path);
    }
    return s;
}

/* Rank 0 reads the agent file and broadcasts its bytes: the other ranks need no shared file system
 * (they write the bytes to a private temporary file for mfpo_agent_load()). */
static mfpo_status load_agent(mfpo_mpi *m, mfpo_agent *agent, const char *path)
{
    mfpo_status s = MFPO_OK;
    long long len = -1;
    unsigned char *bytes = NULL;
    if (m->rank == 0) {
        FILE *f = fopen(path, "rb");
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            bytes = malloc(len > 0 ? (size_t)len : 1);
            if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) len = -1;
        } else {
            len = -1;
        }
        if (f) fclose(f);
        if (len < 0) {
            set_error(m->error, "rank 0: cannot read %s: %s", path, strerror(errno));
            s = MFPO_ERR_IO;
        }
    }
    s = agree_named(m, s, "reading the agent file");
    if (s != MFPO_OK) {
        free(bytes);
        return s;
    }
    MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, m->comm);
    if (m->rank != 0) bytes = malloc(len > 0 ? (size_t)len : 1);
    int have = bytes != NULL, all = 0;
    MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, m->comm);
    if (!all) {
        free(bytes);
        set_error(m->error, "rank %d: out of memory for the agent file (%lld bytes)", m->rank, len);
        return MFPO_ERR_OUT_OF_MEMORY;
    }
    for (long long at = 0; at < len;) {
        int n = len - at > INT_MAX ? INT_MAX : (int)(len - at);
        MPI_Bcast(bytes + at, n, MPI_BYTE, 0, m->comm);
        at += n;
    }
    if (m->rank == 0) {
        s = mfpo_agent_load(agent, path);
    } else {
        char tmp[] = "/tmp/mfpo-mpi-agent-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0 || write(fd, bytes, (size_t)len) != (ssize_t)len) {
            set_error(m->error, "rank %d: cannot write a temporary copy of %s: %s", m->rank, path, strerror(errno));
            s = MFPO_ERR_IO;
        }
        if (fd >= 0) close(fd);
        if (s == MFPO_OK) s = mfpo_agent_load(agent, tmp);
        unlink(tmp);
    }
    if (s != MFPO_OK && !m->error[0]) set_error(m->error, "rank %d: %s", m->rank, mfpo_last_error(m->ctx));
    free(bytes);
    return agree_named(m, s, "loading the agent");
}

mfpo_status mfpo_mpi_load(mfpo_mpi *m, mfpo_agent *agent, mfpo_replay *replay, const char *dir, uint64_t *tag)
{
    if (!m) return MFPO_ERR_INVALID_ARGUMENT;
    mfpo_status s = MFPO_OK;
    m->error[0] = '\0';
    if (!agent || !replay || !dir) {
        set_error(m->error, "rank %d: mfpo_mpi_load: argument '%s' is NULL", m->rank,
                  !agent    ? "agent"
                  : !replay ? "replay"
                            : "dir");
        s = MFPO_ERR_INVALID_ARGUMENT;
    }
    unsigned long long t = 0;
    if (s == MFPO_OK && m->rank == 0) {
        uint64_t v = 0;
        if (!read_latest(dir, &v)) {
            set_error(m->error, "rank 0: no checkpoint: %s/LATEST is missing or unreadable", dir);
            s = MFPO_ERR_IO;
        }
        t = v;
    }
    s = agree_named(m, s, "finding the checkpoint");
    if (s != MFPO_OK) return s;
    MPI_Bcast(&t, 1, MPI_UNSIGNED_LONG_LONG, 0, m->comm);
    char path[PATH_MAX];
    ckpt_path(path, sizeof path, dir, t, "agent", -1);
    s = load_agent(m, agent, path);
    if (s != MFPO_OK) return s;
    /* the rank's own shard and random position (the agent file set rank 0's) */
    ckpt_path(path, sizeof path, dir, t, "replay", m->rank);
    s = mfpo_replay_load(replay, path);
    if (s != MFPO_OK) set_error(m->error, "rank %d: %s", m->rank, mfpo_last_error(m->ctx));
    if (s == MFPO_OK) {
        uint64_t seed = 0, stream = 0;
        ckpt_path(path, sizeof path, dir, t, "rng", m->rank);
        FILE *f = fopen(path, "r");
        if (!f || fscanf(f, "%" SCNu64 " %" SCNu64, &seed, &stream) != 2) {
            set_error(m->error, "rank %d: cannot read the random position %s", m->rank, path);
            s = f ? MFPO_ERR_FORMAT : MFPO_ERR_IO;
        }
        if (f) fclose(f);
        if (s == MFPO_OK) mfpo_context_set_random_position(m->ctx, seed, stream);
    }
    s = agree_named(m, s, "loading the replay shard");
    if (s == MFPO_OK && tag) *tag = t;
    return s;
}
