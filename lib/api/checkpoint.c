/*
 * Checkpoints of an agent and of a replay buffer (include/mfpo/checkpoint.h). The format is
 * documented in docs/checkpoint-format.md: a 32-byte header, a section table, and sections each
 * with its own CRC-32, all little-endian.
 *
 * Saving goes through lib/io/atomic_file (temporary file, fsync, rename, fsync of the directory).
 * Loading reads and verifies every section into temporary host memory first (header, table,
 * CRCs, configuration or shape, every value), and only then writes the agent or buffer: a file
 * that fails any check leaves the object exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>

#include <mfpo/checkpoint.h>

#include "../algo/update.h"
#include "../core/alloc.h"
#include "../io/atomic_file.h"
#include "../algo/replay.h"

#define OPS (be->ops)

/* ------------------------------------------------------------------ format constants */

static const unsigned char CKPT_MAGIC[8] = {'M', 'F', 'P', 'O', 'C', 'K', 'P', 'T'};
#define CKPT_VERSION 1u
#define CKPT_HEADER_BYTES 32u
#define CKPT_ENTRY_BYTES 32u
#define CKPT_MAX_SECTIONS 16u
#define CKPT_ALIGN 8u

enum { KIND_AGENT = 1, KIND_REPLAY = 2 };

enum {
    SEC_CONFIG = 1,
    SEC_COUNTERS = 2,
    SEC_STATE = 3,
    SEC_REPLAY_SHAPE = 16,
    SEC_OBS = 17,
    SEC_ACT = 18,
    SEC_REWARD = 19,
    SEC_NEXT_OBS = 20,
    SEC_TERMINATED = 21,
};

static const char *section_name(uint32_t id)
{
    switch (id) {
    case SEC_CONFIG: return "config";
    case SEC_COUNTERS: return "counters";
    case SEC_STATE: return "state";
    case SEC_REPLAY_SHAPE: return "replay-shape";
    case SEC_OBS: return "obs";
    case SEC_ACT: return "actions";
    case SEC_REWARD: return "rewards";
    case SEC_NEXT_OBS: return "next-obs";
    case SEC_TERMINATED: return "terminated";
    }
    return "unknown";
}

static const char *kind_name(uint32_t kind)
{
    return kind == KIND_AGENT ? "an agent checkpoint" : kind == KIND_REPLAY ? "a replay checkpoint" : "of an unknown kind";
}

/* ------------------------------------------------------------------ little-endian helpers */

static int host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(p, v);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static float get_f32(const unsigned char *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* Converts n floats stored little-endian at p to host order in place (no-op on little-endian). */
static void floats_from_le(unsigned char *p, size_t n)
{
    if (host_little_endian()) return;
    for (size_t i = 0; i < n; i++) {
        float f = get_f32(p + 4 * i);
        memcpy(p + 4 * i, &f, 4);
    }
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    uLong c = crc;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

static uint64_t align_up(uint64_t x)
{
    return (x + CKPT_ALIGN - 1) / CKPT_ALIGN * CKPT_ALIGN;
}

/* ------------------------------------------------------------------ configuration fields */

enum { F_SIZE, F_FLOAT, F_INT };

typedef struct cfg_field {
    const char *name;
    int type;
    size_t offset;
} cfg_field;

#define FS(name) {#name, F_SIZE, offsetof(mfpo_agent_config, name)}
#define FF(name) {#name, F_FLOAT, offsetof(mfpo_agent_config, name)}
#define FI(name) {#name, F_INT, offsetof(mfpo_agent_config, name)}

/* Format version 1: every field of mfpo_agent_config except struct_size, in declaration order.
 * size_t fields are stored as u64, float as IEEE binary32, int as i32 (docs table). */
static const cfg_field CFG_FIELDS[] = {
    FS(obs_dim),         FS(act_dim),          FS(hidden_width),     FS(hidden_depth),    FS(sampling_steps),
    FS(policy_samples),  FS(gaussian_samples), FS(hutchinson_probes), FS(atoms),          FF(v_min),
    FF(v_max),           FF(gamma),            FF(tau),              FF(lr_policy),       FF(lr_divergence),
    FF(lr_critic),       FF(lr_alpha),         FF(init_alpha),       FI(auto_alpha),      FF(target_entropy_coef),
    FI(clipped_double_q), FS(actor_delay),     FS(eval_candidates),  FS(batch_size),      FF(flow_fraction),
    FF(time_mean),       FF(time_std),         FS(fourier_features), FS(time_embed_dim),  FF(fourier_init_std),
    FF(adam_beta1),      FF(adam_beta2),       FF(adam_eps),
};
#define CFG_COUNT (sizeof CFG_FIELDS / sizeof CFG_FIELDS[0])

static size_t field_width(int type)
{
    return type == F_SIZE ? 8 : 4;
}

/* Bytes of the config section: u32 field count, u32 zero, then the fields. */
static size_t config_bytes(void)
{
    size_t n = 8;
    for (size_t i = 0; i < CFG_COUNT; i++) n += field_width(CFG_FIELDS[i].type);
    return n;
}

#define CONFIG_MAX_BYTES 512
#define COUNTERS_BYTES 40u     /* updates, critic_steps, actor_steps, seed, stream */
#define STATE_HEAD_BYTES 32u   /* u64 floats, u64 policy params, u64 divergence params, u64 critic params */
#define SHAPE_BYTES 40u        /* obs_dim, act_dim, capacity, size, next */
#define RING_HEAD_BYTES 16u    /* u64 rows, u64 cols */

static void encode_config(unsigned char *p, const mfpo_agent_config *c)
{
    const unsigned char *base = (const unsigned char *)c;
    put_u32(p, (uint32_t)CFG_COUNT);
    put_u32(p + 4, 0);
    p += 8;
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const cfg_field *f = &CFG_FIELDS[i];
        if (f->type == F_SIZE) {
            size_t v;
            memcpy(&v, base + f->offset, sizeof v);
            put_u64(p, (uint64_t)v);
        } else if (f->type == F_FLOAT) {
            float v;
            memcpy(&v, base + f->offset, sizeof v);
            put_f32(p, v);
        } else {
            int v;
            memcpy(&v, base + f->offset, sizeof v);
            put_u32(p, (uint32_t)(int32_t)v);
        }
        p += field_width(f->type);
    }
}

/* ------------------------------------------------------------------ writing */

typedef struct sec_out {
    uint32_t id;
    unsigned char head[CONFIG_MAX_BYTES];
    size_t head_len;
    const float *data; /* host memory, n floats appended after head */
    size_t n;
    uint64_t offset, length;
    uint32_t crc;
} sec_out;

/* CRC of n host floats as they appear little-endian in the file. */
static uint32_t crc_floats(uint32_t crc, const float *x, size_t n)
{
    if (host_little_endian()) return crc_update(crc, x, n * sizeof(float));
    unsigned char buf[4096];
    while (n > 0) {
        size_t m = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < m; i++) put_f32(buf + 4 * i, x[i]);
        crc = crc_update(crc, buf, 4 * m);
        x += m;
        n -= m;
    }
    return crc;
}

static mfpo_status write_floats(io_atomic_file *f, const float *x, size_t n)
{
    if (host_little_endian()) return io_atomic_write(f, x, n * sizeof(float));
    unsigned char buf[4096];
    while (n > 0) {
        size_t m = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < m; i++) put_f32(buf + 4 * i, x[i]);
        mfpo_status s = io_atomic_write(f, buf, 4 * m);
        if (s != MFPO_OK) return s;
        x += m;
        n -= m;
    }
    return MFPO_OK;
}

/* Lays out, checksums and writes a whole checkpoint atomically. */
static mfpo_status write_checkpoint(mfpo_context *ctx, const char *who, const char *path, uint32_t kind, sec_out *sec,
                                    size_t count)
{
    unsigned char head[CKPT_HEADER_BYTES + CKPT_MAX_SECTIONS * CKPT_ENTRY_BYTES];
    static const unsigned char zeros[CKPT_ALIGN] = {0};
    uint64_t at = CKPT_HEADER_BYTES + (uint64_t)count * CKPT_ENTRY_BYTES;
    for (size_t i = 0; i < count; i++) {
        at = align_up(at);
        sec[i].offset = at;
        sec[i].length = sec[i].head_len + (uint64_t)sec[i].n * sizeof(float);
        sec[i].crc = crc_floats(crc_update(0, sec[i].head, sec[i].head_len), sec[i].data, sec[i].n);
        at += sec[i].length;
    }
    memset(head, 0, sizeof head);
    memcpy(head, CKPT_MAGIC, 8);
    put_u32(head + 8, CKPT_VERSION);
    put_u32(head + 12, kind);
    put_u32(head + 16, (uint32_t)count);
    put_u64(head + 24, at);
    for (size_t i = 0; i < count; i++) {
        unsigned char *e = head + CKPT_HEADER_BYTES + i * CKPT_ENTRY_BYTES;
        put_u32(e, sec[i].id);
        put_u64(e + 8, sec[i].offset);
        put_u64(e + 16, sec[i].length);
        put_u32(e + 24, sec[i].crc);
    }
    size_t head_len = CKPT_HEADER_BYTES + count * CKPT_ENTRY_BYTES;
    put_u32(head + 20, crc_update(0, head, head_len)); /* computed with the field still zero */

    io_atomic_file f;
    mfpo_status s = io_atomic_begin(&f, ctx, who, path);
    if (s != MFPO_OK) return s;
    s = io_atomic_write(&f, head, head_len);
    uint64_t pos = head_len;
    for (size_t i = 0; i < count && s == MFPO_OK; i++) {
        if (sec[i].offset > pos) s = io_atomic_write(&f, zeros, (size_t)(sec[i].offset - pos));
        if (s == MFPO_OK) s = io_atomic_write(&f, sec[i].head, sec[i].head_len);
        if (s == MFPO_OK && sec[i].n) s = write_floats(&f, sec[i].data, sec[i].n);
        pos = sec[i].offset + sec[i].length;
    }
    if (s != MFPO_OK) {
        io_atomic_abort(&f);
        return s;
    }
    return io_atomic_commit(&f);
}

static mfpo_status check_path(mfpo_context *ctx, const char *who, const char *path)
{
    if (!path) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is NULL", who);
    if (!path[0]) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is empty", who);
    if (strlen(path) > 4000)
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'path' is %zu bytes long (at most 4000)", who,
                         strlen(path));
    return MFPO_OK;
}

mfpo_status mfpo_agent_save(const mfpo_agent *ag, const char *path)
{
    static const char who[] = "mfpo_agent_save";
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    mfpo_status s = check_path(ctx, who, path);
    if (s != MFPO_OK) return s;

    float *state = core_alloc(&ctx->allocator, ag->off.total * sizeof(float), 64);
    if (!state)
        return core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for a host copy of the %zu-float state", who,
                         ag->off.total);
    OPS->download(be, state, ag->state, ag->off.total * sizeof(float));

    sec_out sec[3];
    memset(sec, 0, sizeof sec);
    sec[0].id = SEC_CONFIG;
    sec[0].head_len = config_bytes();
    encode_config(sec[0].head, &ag->cfg);
    sec[1].id = SEC_COUNTERS;
    sec[1].head_len = COUNTERS_BYTES;
    put_u64(sec[1].head, ag->updates);
    put_u64(sec[1].head + 8, ag->critic_steps);
    put_u64(sec[1].head + 16, ag->actor_steps);
    put_u64(sec[1].head + 24, ctx->seed);
    put_u64(sec[1].head + 32, ctx->stream);
    sec[2].id = SEC_STATE;
    sec[2].head_len = STATE_HEAD_BYTES;
    put_u64(sec[2].head, ag->off.total);
    put_u64(sec[2].head + 8, ag->ul.n_params);
    put_u64(sec[2].head + 16, ag->dl.n_params);
    put_u64(sec[2].head + 24, ag->ql.n_params);
    sec[2].data = state;
    sec[2].n = ag->off.total;
    s = write_checkpoint(ctx, who, path, KIND_AGENT, sec, 3);
    core_free(&ctx->allocator, state);
    return s;
}

mfpo_status mfpo_replay_save(const mfpo_replay *replay, const char *path)
{
    static const char who[] = "mfpo_replay_save";
    if (!replay) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    mfpo_status s = check_path(v.ctx, who, path);
    if (s != MFPO_OK) return s;

    const struct {
        uint32_t id;
        const float *ring;
        size_t cols;
    } rings[5] = {
        {SEC_OBS, v.obs, v.obs_dim},           {SEC_ACT, v.act, v.act_dim},
        {SEC_REWARD, v.reward, 1},             {SEC_NEXT_OBS, v.next_obs, v.obs_dim},
        {SEC_TERMINATED, v.terminated, 1},
    };
    sec_out sec[6];
    memset(sec, 0, sizeof sec);
    sec[0].id = SEC_REPLAY_SHAPE;
    sec[0].head_len = SHAPE_BYTES;
    put_u64(sec[0].head, v.obs_dim);
    put_u64(sec[0].head + 8, v.act_dim);
    put_u64(sec[0].head + 16, v.capacity);
    put_u64(sec[0].head + 24, v.size);
    put_u64(sec[0].head + 32, v.next);
    for (int i = 0; i < 5; i++) {
        sec_out *o = &sec[i + 1];
        o->id = rings[i].id;
        o->head_len = RING_HEAD_BYTES;
        put_u64(o->head, v.size);
        put_u64(o->head + 8, rings[i].cols);
        o->data = rings[i].ring;
        o->n = v.size * rings[i].cols; /* fits: the ring was allocated */
    }
    return write_checkpoint(v.ctx, who, path, KIND_REPLAY, sec, 6);
}

/* ------------------------------------------------------------------ reading */

typedef struct sec_in {
    uint32_t id, crc;
    uint64_t offset, length;
} sec_in;

typedef struct ckpt_in {
    mfpo_context *ctx;
    const char *who, *path;
    int fd;
    uint64_t file_size;
    uint32_t count;
    sec_in sec[CKPT_MAX_SECTIONS];
} ckpt_in;

#define FORMAT_FAIL(in, fmt, ...) \
    core_fail((in)->ctx, MFPO_ERR_FORMAT, "%s: '%s': " fmt, (in)->who, (in)->path, __VA_ARGS__)

/* Reads exactly n bytes at offset; a short read means the file shrank under us: truncated. */
static mfpo_status read_at(ckpt_in *in, void *dst, size_t n, uint64_t offset, const char *what)
{
    unsigned char *p = dst;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t r = pread(in->fd, p, chunk, (off_t)offset);
        if (r < 0) {
            if (errno == EINTR) continue;
            char text[128];
            return core_fail(in->ctx, MFPO_ERR_IO, "%s: cannot read '%s' (%s): %s", in->who, in->path, what,
                             io_errno_text(errno, text, sizeof text));
        }
        if (r == 0) return FORMAT_FAIL(in, "truncated while reading %s at byte %llu", what, (unsigned long long)offset);
        p += r;
        n -= (size_t)r;
        offset += (uint64_t)r;
    }
    return MFPO_OK;
}

/* Opens the file and verifies the header and the section table. */
static mfpo_status ckpt_open(ckpt_in *in, mfpo_context *ctx, const char *who, const char *path, uint32_t want_kind)
{
    char text[128];
    unsigned char head[CKPT_HEADER_BYTES + CKPT_MAX_SECTIONS * CKPT_ENTRY_BYTES];
    memset(in, 0, sizeof *in);
    in->ctx = ctx;
    in->who = who;
    in->path = path;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0)
        return core_fail(ctx, MFPO_ERR_IO, "%s: cannot open '%s': %s", who, path, io_errno_text(errno, text, sizeof text));
    struct stat st;
    if (fstat(in->fd, &st) != 0)
        return core_fail(ctx, MFPO_ERR_IO, "%s: cannot stat '%s': %s", who, path, io_errno_text(errno, text, sizeof text));
    if (!S_ISREG(st.st_mode)) return core_fail(ctx, MFPO_ERR_IO, "%s: '%s' is not a regular file", who, path);
    in->file_size = (uint64_t)st.st_size;
    if (in->file_size < CKPT_HEADER_BYTES)
        return FORMAT_FAIL(in, "truncated: the file has %llu bytes, the header alone needs %u",
                           (unsigned long long)in->file_size, CKPT_HEADER_BYTES);
    mfpo_status s = read_at(in, head, CKPT_HEADER_BYTES, 0, "the header");
    if (s != MFPO_OK) return s;
    if (memcmp(head, CKPT_MAGIC, 8) != 0)
        return FORMAT_FAIL(in, "%s", "not a libmfpo checkpoint (header: the magic bytes are not \"MFPOCKPT\")");
    uint32_t version = get_u32(head + 8), kind = get_u32(head + 12), count = get_u32(head + 16);
    uint64_t size = get_u64(head + 24);
    if (version == 0 || version > CKPT_VERSION)
        return FORMAT_FAIL(in, "header: format version %u, but this library reads version %u%s", version, CKPT_VERSION,
                           version > CKPT_VERSION ? " (written by a newer libmfpo)" : "");
    if (kind != want_kind)
        return FORMAT_FAIL(in, "header: the file is %s (kind %u), expected %s", kind_name(kind), kind,
                           kind_name(want_kind));
    if (count == 0 || count > CKPT_MAX_SECTIONS)
        return FORMAT_FAIL(in, "header: section count %u is outside [1, %u]", count, CKPT_MAX_SECTIONS);
    if (size != in->file_size)
        return FORMAT_FAIL(in, "%s: the header records %llu bytes but the file has %llu",
                           size > in->file_size ? "truncated" : "wrong length", (unsigned long long)size,
                           (unsigned long long)in->file_size);
    size_t table_end = CKPT_HEADER_BYTES + (size_t)count * CKPT_ENTRY_BYTES;
    if (table_end > in->file_size)
        return FORMAT_FAIL(in, "truncated: the section table needs %zu bytes, the file has %llu", table_end,
                           (unsigned long long)in->file_size);
    s = read_at(in, head + CKPT_HEADER_BYTES, table_end - CKPT_HEADER_BYTES, CKPT_HEADER_BYTES, "the section table");
    if (s != MFPO_OK) return s;
    uint32_t want_crc = get_u32(head + 20);
    put_u32(head + 20, 0);
    uint32_t got_crc = crc_update(0, head, table_end);
    if (got_crc != want_crc)
        return FORMAT_FAIL(in, "header and section table: CRC-32 is 0x%08x, the header records 0x%08x (corrupt file)",
                           got_crc, want_crc);
    in->count = count;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = head + CKPT_HEADER_BYTES + (size_t)i * CKPT_ENTRY_BYTES;
        sec_in *c = &in->sec[i];
        c->id = get_u32(e);
        c->offset = get_u64(e + 8);
        c->length = get_u64(e + 16);
        c->crc = get_u32(e + 24);
        if (c->offset < table_end || c->offset > in->file_size || c->length > in->file_size - c->offset)
            return FORMAT_FAIL(in, "section table: section '%s' (id %u) at byte %llu with %llu bytes lies outside the "
                               "%llu-byte file",
                               section_name(c->id), c->id, (unsigned long long)c->offset,
                               (unsigned long long)c->length, (unsigned long long)in->file_size);
        for (uint32_t j = 0; j < i; j++)
            if (in->sec[j].id == c->id)
                return FORMAT_FAIL(in, "section table: section '%s' (id %u) appears twice", section_name(c->id), c->id);
    }
    /* The sections tile the rest of the file in offset order, each starting at the next multiple
     * of 8, with zero padding: then every byte of the file is covered by a CRC or checked. */
    uint32_t order[CKPT_MAX_SECTIONS];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t j = i;
        while (j > 0 && in->sec[order[j - 1]].offset > in->sec[i].offset) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    uint64_t at = table_end;
    for (uint32_t k = 0; k < count; k++) {
        const sec_in *c = &in->sec[order[k]];
        uint64_t want = align_up(at);
        if (c->offset != want)
            return FORMAT_FAIL(in, "section table: section '%s' starts at byte %llu, expected %llu (sections follow "
                               "each other at 8-byte boundaries)",
                               section_name(c->id), (unsigned long long)c->offset, (unsigned long long)want);
        if (want > at) {
            unsigned char pad[CKPT_ALIGN];
            s = read_at(in, pad, (size_t)(want - at), at, "padding");
            if (s != MFPO_OK) return s;
            for (uint64_t b = 0; b < want - at; b++)
                if (pad[b] != 0)
                    return FORMAT_FAIL(in, "padding byte %llu before section '%s' is not zero (corrupt file)",
                                       (unsigned long long)(at + b), section_name(c->id));
        }
        at = c->offset + c->length;
    }
    if (at != in->file_size)
        return FORMAT_FAIL(in, "section table: the sections end at byte %llu but the file has %llu bytes",
                           (unsigned long long)at, (unsigned long long)in->file_size);
    return MFPO_OK;
}

static void ckpt_close(ckpt_in *in)
{
    if (in->fd >= 0) close(in->fd);
    in->fd = -1;
}

/* Checks that every section is one the kind requires (ids[0..n)), and that each is present. */
static mfpo_status ckpt_expect_sections(ckpt_in *in, const uint32_t *ids, size_t n)
{
    for (uint32_t i = 0; i < in->count; i++) {
        size_t k = 0;
        while (k < n && ids[k] != in->sec[i].id) k++;
        if (k == n)
            return FORMAT_FAIL(in, "section table: unknown section id %u for format version %u", in->sec[i].id,
                               CKPT_VERSION);
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t i = 0;
        while (i < in->count && in->sec[i].id != ids[k]) i++;
        if (i == in->count) return FORMAT_FAIL(in, "section '%s' is missing", section_name(ids[k]));
    }
    return MFPO_OK;
}

static const sec_in *ckpt_section(const ckpt_in *in, uint32_t id)
{
    for (uint32_t i = 0; i < in->count; i++)
        if (in->sec[i].id == id) return &in->sec[i];
    return NULL; /* not reached after ckpt_expect_sections */
}

/* Checks a section's length against what the object needs. */
static mfpo_status ckpt_expect_length(ckpt_in *in, const sec_in *c, uint64_t want, const char *why)
{
    if (c->length != want)
        return FORMAT_FAIL(in, "section '%s' is %llu bytes, expected %llu (%s)", section_name(c->id),
                           (unsigned long long)c->length, (unsigned long long)want, why);
    return MFPO_OK;
}

/* Reads a section into dst (its whole length) and verifies its CRC. */
static mfpo_status ckpt_read(ckpt_in *in, const sec_in *c, void *dst)
{
    char what[64];
    snprintf(what, sizeof what, "section '%s'", section_name(c->id));
    mfpo_status s = read_at(in, dst, (size_t)c->length, c->offset, what);
    if (s != MFPO_OK) return s;
    uint32_t crc = crc_update(0, dst, (size_t)c->length);
    if (crc != c->crc)
        return FORMAT_FAIL(in, "section '%s': CRC-32 is 0x%08x, the section table records 0x%08x (corrupt file)",
                           section_name(c->id), crc, c->crc);
    return MFPO_OK;
}

/* Index of the first non-finite float, or n. */
static size_t first_non_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/* Compares the file's configuration with the agent's, naming the first field that differs. */
static mfpo_status check_config(ckpt_in *in, const unsigned char *p, const mfpo_agent_config *have)
{
    uint32_t count = get_u32(p);
    if (count != CFG_COUNT)
        return FORMAT_FAIL(in, "section 'config': %u fields, format version %u has %zu", count, CKPT_VERSION,
                           (size_t)CFG_COUNT);
    const unsigned char *base = (const unsigned char *)have;
    p += 8;
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const cfg_field *f = &CFG_FIELDS[i];
        if (f->type == F_SIZE) {
            size_t v;
            memcpy(&v, base + f->offset, sizeof v);
            uint64_t got = get_u64(p);
            if (got != (uint64_t)v)
                return FORMAT_FAIL(in, "section 'config': %s is %llu in the file but %zu in this agent", f->name,
                                   (unsigned long long)got, v);
        } else if (f->type == F_FLOAT) {
            float v;
            memcpy(&v, base + f->offset, sizeof v);
            float got = get_f32(p);
            if (memcmp(&got, &v, sizeof v) != 0)
                return FORMAT_FAIL(in, "section 'config': %s is %.9g in the file but %.9g in this agent", f->name,
                                   (double)got, (double)v);
        } else {
            int v;
            memcpy(&v, base + f->offset, sizeof v);
            int32_t got = (int32_t)get_u32(p);
            if (got != (int32_t)v)
                return FORMAT_FAIL(in, "section 'config': %s is %ld in the file but %d in this agent", f->name,
                                   (long)got, v);
        }
        p += field_width(f->type);
    }
    return MFPO_OK;
}

mfpo_status mfpo_agent_load(mfpo_agent *ag, const char *path)
{
    static const char who[] = "mfpo_agent_load";
    static const uint32_t ids[] = {SEC_CONFIG, SEC_COUNTERS, SEC_STATE};
    if (!ag) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'agent' is NULL", who);
    mfpo_context *ctx = ag->ctx;
    be_backend *be = ctx->be;
    mfpo_status s = check_path(ctx, who, path);
    if (s != MFPO_OK) return s;

    ckpt_in in;
    unsigned char small[CONFIG_MAX_BYTES];
    unsigned char *state = NULL;
    uint64_t counters[5];
    const size_t n = ag->off.total;
    s = ckpt_open(&in, ctx, who, path, KIND_AGENT);
    if (s == MFPO_OK) s = ckpt_expect_sections(&in, ids, 3);

    /* configuration: every field equal to the agent's */
    const sec_in *c = s == MFPO_OK ? ckpt_section(&in, SEC_CONFIG) : NULL;
    if (c) s = ckpt_expect_length(&in, c, config_bytes(), "format version 1 stores 33 configuration fields");
    if (c && s == MFPO_OK) s = ckpt_read(&in, c, small);
    if (c && s == MFPO_OK) s = check_config(&in, small, &ag->cfg);

    /* counters */
    c = s == MFPO_OK ? ckpt_section(&in, SEC_COUNTERS) : NULL;
    if (c) s = ckpt_expect_length(&in, c, COUNTERS_BYTES, "five u64 counters");
    if (c && s == MFPO_OK) s = ckpt_read(&in, c, small);
    if (c && s == MFPO_OK) {
        for (int i = 0; i < 5; i++) counters[i] = get_u64(small + 8 * i);
        if (counters[2] > counters[1])
            s = FORMAT_FAIL(&in, "section 'counters': actor_steps = %llu exceeds critic_steps = %llu",
                            (unsigned long long)counters[2], (unsigned long long)counters[1]);
    }

    /* the state vector: same layout, every value finite */
    c = s == MFPO_OK ? ckpt_section(&in, SEC_STATE) : NULL;
    if (c) {
        char why[160];
        snprintf(why, sizeof why, "a %zu-byte header and the agent's %zu state floats", (size_t)STATE_HEAD_BYTES, n);
        s = ckpt_expect_length(&in, c, STATE_HEAD_BYTES + (uint64_t)n * sizeof(float), why);
    }
    if (c && s == MFPO_OK) {
        state = core_alloc(&ctx->allocator, STATE_HEAD_BYTES + n * sizeof(float), 64);
        if (!state)
            s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for a host copy of the %zu-float state", who,
                          n);
    }
    if (c && s == MFPO_OK) s = ckpt_read(&in, c, state);
    if (c && s == MFPO_OK) {
        uint64_t total = get_u64(state), nu = get_u64(state + 8), nd = get_u64(state + 16), nq = get_u64(state + 24);
        if (total != n || nu != ag->ul.n_params || nd != ag->dl.n_params || nq != ag->ql.n_params)
            s = FORMAT_FAIL(&in,
                            "section 'state': layout of %llu floats (policy %llu, divergence %llu, critic %llu "
                            "parameters), but this agent has %zu (policy %zu, divergence %zu, critic %zu)",
                            (unsigned long long)total, (unsigned long long)nu, (unsigned long long)nd,
                            (unsigned long long)nq, n, ag->ul.n_params, ag->dl.n_params, ag->ql.n_params);
    }
    if (c && s == MFPO_OK) {
        unsigned char *data = state + STATE_HEAD_BYTES;
        floats_from_le(data, n);
        size_t i = first_non_finite((const float *)(void *)data, n);
        if (i < n) {
            float bad;
            memcpy(&bad, data + 4 * i, 4);
            s = FORMAT_FAIL(&in, "section 'state': float %zu = %g is not finite", i, (double)bad);
        }
    }
    ckpt_close(&in);

    /* everything verified: commit */
    if (s == MFPO_OK) {
        OPS->upload(be, ag->state, state + STATE_HEAD_BYTES, n * sizeof(float));
        ag->updates = counters[0];
        ag->critic_steps = counters[1];
        ag->actor_steps = counters[2];
        ctx->seed = counters[3];
        ctx->stream = counters[4];
    }
    if (state) core_free(&ctx->allocator, state);
    return s;
}

mfpo_status mfpo_replay_load(mfpo_replay *replay, const char *path)
{
    static const char who[] = "mfpo_replay_load";
    static const uint32_t ids[] = {SEC_REPLAY_SHAPE, SEC_OBS, SEC_ACT, SEC_REWARD, SEC_NEXT_OBS, SEC_TERMINATED};
    if (!replay) return core_fail(NULL, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'replay' is NULL", who);
    algo_replay_view v;
    algo_replay_raw(replay, &v);
    mfpo_context *ctx = v.ctx;
    mfpo_status s = check_path(ctx, who, path);
    if (s != MFPO_OK) return s;

    ckpt_in in;
    unsigned char shape[SHAPE_BYTES];
    uint64_t size = 0, next = 0;
    s = ckpt_open(&in, ctx, who, path, KIND_REPLAY);
    if (s == MFPO_OK) s = ckpt_expect_sections(&in, ids, 6);

    const sec_in *c = s == MFPO_OK ? ckpt_section(&in, SEC_REPLAY_SHAPE) : NULL;
    if (c) s = ckpt_expect_length(&in, c, SHAPE_BYTES, "five u64 values");
    if (c && s == MFPO_OK) s = ckpt_read(&in, c, shape);
    if (c && s == MFPO_OK) {
        uint64_t od = get_u64(shape), ad = get_u64(shape + 8), cap = get_u64(shape + 16);
        size = get_u64(shape + 24);
        next = get_u64(shape + 32);
        if (od != v.obs_dim || ad != v.act_dim || cap != v.capacity)
            s = FORMAT_FAIL(&in,
                            "section 'replay-shape': obs_dim %llu, act_dim %llu, capacity %llu in the file, but the "
                            "buffer has obs_dim %zu, act_dim %zu, capacity %zu",
                            (unsigned long long)od, (unsigned long long)ad, (unsigned long long)cap, v.obs_dim,
                            v.act_dim, v.capacity);
        else if (size > cap || next >= cap || (size < cap && next != size))
            s = FORMAT_FAIL(&in,
                            "section 'replay-shape': size %llu and next position %llu are inconsistent with "
                            "capacity %llu (expected size <= capacity, next < capacity, next == size unless full)",
                            (unsigned long long)size, (unsigned long long)next, (unsigned long long)cap);
    }

    /* the rings: exactly `size` valid rows each, read into one temporary block */
    const struct {
        uint32_t id;
        float *ring;
        size_t cols;
    } rings[5] = {
        {SEC_OBS, v.obs, v.obs_dim},           {SEC_ACT, v.act, v.act_dim},
        {SEC_REWARD, v.reward, 1},             {SEC_NEXT_OBS, v.next_obs, v.obs_dim},
        {SEC_TERMINATED, v.terminated, 1},
    };
    size_t start[5], total = 0;
    unsigned char *block = NULL;
    for (int i = 0; i < 5 && s == MFPO_OK; i++) {
        c = ckpt_section(&in, rings[i].id);
        /* size <= capacity and the ring exists, so these products fit */
        uint64_t want = RING_HEAD_BYTES + (uint64_t)size * rings[i].cols * sizeof(float);
        char why[160];
        snprintf(why, sizeof why, "a %u-byte header and %llu rows of %zu floats", RING_HEAD_BYTES,
                 (unsigned long long)size, rings[i].cols);
        s = ckpt_expect_length(&in, c, want, why);
        start[i] = total;
        total += (size_t)align_up(want);
    }
    if (s == MFPO_OK) {
        block = core_alloc(&ctx->allocator, total, 64);
        if (!block) s = core_fail(ctx, MFPO_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu bytes of transitions", who, total);
    }
    for (int i = 0; i < 5 && s == MFPO_OK; i++) {
        c = ckpt_section(&in, rings[i].id);
        unsigned char *p = block + start[i];
        size_t nf = (size_t)size * rings[i].cols;
        s = ckpt_read(&in, c, p);
        if (s != MFPO_OK) break;
        uint64_t rows = get_u64(p), cols = get_u64(p + 8);
        if (rows != size || cols != rings[i].cols) {
            s = FORMAT_FAIL(&in, "section '%s': %llu rows of %llu columns, expected %llu rows of %zu",
                            section_name(rings[i].id), (unsigned long long)rows, (unsigned long long)cols,
                            (unsigned long long)size, rings[i].cols);
            break;
        }
        floats_from_le(p + RING_HEAD_BYTES, nf);
        const float *x = (const float *)(void *)(p + RING_HEAD_BYTES);
        size_t bad = first_non_finite(x, nf);
        if (bad < nf) {
            float val;
            memcpy(&val, p + RING_HEAD_BYTES + 4 * bad, 4);
            s = FORMAT_FAIL(&in, "section '%s': row %zu, column %zu = %g is not finite", section_name(rings[i].id),
                            bad / rings[i].cols, bad % rings[i].cols, (double)val);
            break;
        }
        if (rings[i].id == SEC_TERMINATED)
            for (size_t j = 0; j < nf; j++) {
                float val;
                memcpy(&val, p + RING_HEAD_BYTES + 4 * j, 4);
                if (val != 0.0f && val != 1.0f) {
                    s = FORMAT_FAIL(&in, "section 'terminated': row %zu = %g is neither 0 nor 1", j, (double)val);
                    break;
                }
            }
    }
    ckpt_close(&in);

    if (s == MFPO_OK) {
        for (int i = 0; i < 5; i++)
            if (size) memcpy(rings[i].ring, block + start[i] + RING_HEAD_BYTES, (size_t)size * rings[i].cols * sizeof(float));
        s = algo_replay_set_position(replay, (size_t)size, (size_t)next); /* checked above: cannot fail */
    }
    if (block) core_free(&ctx->allocator, block);
    return s;
}
