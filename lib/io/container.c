/* The checkpoint container: layout, CRCs, verification (container.h, docs/checkpoint-format.md). */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>

#include "atomic_file.h"
#include "le.h"

static const unsigned char MAGIC[8] = { 'M', 'F', 'P', 'O', 'C', 'K', 'P', 'T' };
#define HEADER_BYTES 32u
#define ENTRY_BYTES 32u
#define ALIGN 8u

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
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

/* ------------------------------------------------------------------ writing */

/* CRC of n host floats as they appear little-endian in the file. */
static uint32_t crc_floats(uint32_t crc, const float *x, size_t n)
{
    if (le_host_is_little()) return crc_update(crc, x, n * sizeof(float));
    unsigned char buf[4096];
    while (n > 0) {
        size_t m = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < m; i++) le_put_f32(buf + 4 * i, x[i]);
        crc = crc_update(crc, buf, 4 * m);
        x += m;
        n -= m;
    }
    return crc;
}

static mfpo_status write_floats(io_atomic_file *f, const float *x, size_t n)
{
    if (le_host_is_little()) return io_atomic_write(f, x, n * sizeof(float));
    unsigned char buf[4096];
    while (n > 0) {
        size_t m = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < m; i++) le_put_f32(buf + 4 * i, x[i]);
        mfpo_status s = io_atomic_write(f, buf, 4 * m);
        if (s != MFPO_OK) return s;
        x += m;
        n -= m;
    }
    return MFPO_OK;
}

mfpo_status io_ckpt_write(mfpo_context *ctx, const char *who, const char *path, uint32_t kind, const io_ckpt_out *sec,
                          size_t count)
{
    unsigned char head[HEADER_BYTES + IO_CKPT_MAX_SECTIONS * ENTRY_BYTES];
    uint64_t offset[IO_CKPT_MAX_SECTIONS], length[IO_CKPT_MAX_SECTIONS];
    static const unsigned char zeros[ALIGN] = { 0 };
    /* 1 <= count <= IO_CKPT_MAX_SECTIONS: the codecs write 3 or 6 sections */
    uint64_t at = HEADER_BYTES + (uint64_t)count * ENTRY_BYTES;
    memset(head, 0, sizeof head);
    for (size_t i = 0; i < count; i++) {
        at = align_up(at);
        offset[i] = at;
        length[i] = sec[i].head_len + (uint64_t)sec[i].n * sizeof(float);
        unsigned char *e = head + HEADER_BYTES + i * ENTRY_BYTES;
        le_put_u32(e, sec[i].id);
        le_put_u64(e + 8, offset[i]);
        le_put_u64(e + 16, length[i]);
        le_put_u32(e + 24, crc_floats(crc_update(0, sec[i].head, sec[i].head_len), sec[i].data, sec[i].n));
        at += length[i];
    }
    memcpy(head, MAGIC, 8);
    le_put_u32(head + 8, IO_CKPT_VERSION);
    le_put_u32(head + 12, kind);
    le_put_u32(head + 16, (uint32_t)count);
    le_put_u64(head + 24, at);
    size_t head_len = HEADER_BYTES + count * ENTRY_BYTES;
    le_put_u32(head + 20, crc_update(0, head, head_len)); /* computed with the field still zero */

    io_atomic_file f;
    mfpo_status s = io_atomic_begin(&f, ctx, who, path);
    if (s != MFPO_OK) return s;
    s = io_atomic_write(&f, head, head_len);
    uint64_t pos = head_len;
    for (size_t i = 0; i < count && s == MFPO_OK; i++) {
        if (offset[i] > pos) s = io_atomic_write(&f, zeros, (size_t)(offset[i] - pos));
        if (s == MFPO_OK && sec[i].head_len) s = io_atomic_write(&f, sec[i].head, sec[i].head_len);
        if (s == MFPO_OK && sec[i].n) s = write_floats(&f, sec[i].data, sec[i].n);
        pos = offset[i] + length[i];
    }
    if (s != MFPO_OK) {
        io_atomic_abort(&f);
        return s;
    }
    return io_atomic_commit(&f);
}

/* ------------------------------------------------------------------ reading */

static const char *section_name(const io_ckpt_reader *in, uint32_t id)
{
    return in->names->section(id);
}

/* Reads exactly n bytes at offset; a short read means the file shrank under us: truncated. */
static mfpo_status read_at(io_ckpt_reader *in, void *dst, size_t n, uint64_t offset, const char *what)
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
        if (r == 0)
            return IO_CKPT_FAIL(in, "truncated while reading %s at byte %llu", what, (unsigned long long)offset);
        p += r;
        n -= (size_t)r;
        offset += (uint64_t)r;
    }
    return MFPO_OK;
}

/* The sections tile the rest of the file in offset order, each starting at the next multiple of
 * 8, with zero padding: then every byte of the file is covered by a CRC or checked. */
static mfpo_status check_tiling(io_ckpt_reader *in, uint64_t table_end)
{
    uint32_t order[IO_CKPT_MAX_SECTIONS];
    for (uint32_t i = 0; i < in->count; i++) {
        uint32_t j = i;
        while (j > 0 && in->sec[order[j - 1]].offset > in->sec[i].offset) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    uint64_t at = table_end;
    for (uint32_t k = 0; k < in->count; k++) {
        const io_ckpt_section *c = &in->sec[order[k]];
        uint64_t want = align_up(at);
        if (c->offset != want)
            return IO_CKPT_FAIL(in,
                                "section table: section '%s' starts at byte %llu, expected %llu (sections follow "
                                "each other at 8-byte boundaries)",
                                section_name(in, c->id), (unsigned long long)c->offset, (unsigned long long)want);
        if (want > at) {
            unsigned char pad[ALIGN];
            mfpo_status s = read_at(in, pad, (size_t)(want - at), at, "padding");
            if (s != MFPO_OK) return s;
            for (uint64_t b = 0; b < want - at; b++)
                if (pad[b] != 0)
                    return IO_CKPT_FAIL(in, "padding byte %llu before section '%s' is not zero (corrupt file)",
                                        (unsigned long long)(at + b), section_name(in, c->id));
        }
        at = c->offset + c->length;
    }
    if (at != in->file_size)
        return IO_CKPT_FAIL(in, "section table: the sections end at byte %llu but the file has %llu bytes",
                            (unsigned long long)at, (unsigned long long)in->file_size);
    return MFPO_OK;
}

mfpo_status io_ckpt_open(io_ckpt_reader *in, mfpo_context *ctx, const char *who, const char *path, uint32_t want_kind,
                         const io_ckpt_names *names)
{
    char text[128];
    unsigned char head[HEADER_BYTES + IO_CKPT_MAX_SECTIONS * ENTRY_BYTES];
    memset(in, 0, sizeof *in);
    in->ctx = ctx;
    in->who = who;
    in->path = path;
    in->names = names;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; the S_ISREG check
     * below refuses it (and the flag changes nothing for a regular file) */
    in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (in->fd < 0)
        return core_fail(ctx, MFPO_ERR_IO, "%s: cannot open '%s': %s", who, path,
                         io_errno_text(errno, text, sizeof text));
    struct stat st;
    if (fstat(in->fd, &st) != 0)
        return core_fail(ctx, MFPO_ERR_IO, "%s: cannot stat '%s': %s", who, path,
                         io_errno_text(errno, text, sizeof text));
    if (!S_ISREG(st.st_mode)) return core_fail(ctx, MFPO_ERR_IO, "%s: '%s' is not a regular file", who, path);
    in->file_size = (uint64_t)st.st_size;
    if (in->file_size < HEADER_BYTES)
        return IO_CKPT_FAIL(in, "truncated: the file has %llu bytes, the header alone needs %u",
                            (unsigned long long)in->file_size, HEADER_BYTES);
    mfpo_status s = read_at(in, head, HEADER_BYTES, 0, "the header");
    if (s != MFPO_OK) return s;
    if (memcmp(head, MAGIC, 8) != 0)
        return IO_CKPT_FAIL(in, "%s", "not a libmfpo checkpoint (header: the magic bytes are not \"MFPOCKPT\")");
    uint32_t version = le_get_u32(head + 8), kind = le_get_u32(head + 12), count = le_get_u32(head + 16);
    uint64_t size = le_get_u64(head + 24);
    if (version < IO_CKPT_OLDEST_VERSION || version > IO_CKPT_VERSION)
        return IO_CKPT_FAIL(in, "header: format version %u, but this library reads versions %u to %u%s", version,
                            IO_CKPT_OLDEST_VERSION, IO_CKPT_VERSION,
                            version > IO_CKPT_VERSION ? " (written by a newer libmfpo)" : "");
    in->version = version;
    if (kind != want_kind)
        return IO_CKPT_FAIL(in, "header: the file is %s (kind %u), expected %s", names->kind(kind), kind,
                            names->kind(want_kind));
    if (count == 0 || count > IO_CKPT_MAX_SECTIONS)
        return IO_CKPT_FAIL(in, "header: section count %u is outside [1, %u]", count, IO_CKPT_MAX_SECTIONS);
    if (size != in->file_size)
        return IO_CKPT_FAIL(in, "%s: the header records %llu bytes but the file has %llu",
                            size > in->file_size ? "truncated" : "wrong length", (unsigned long long)size,
                            (unsigned long long)in->file_size);
    size_t table_end = HEADER_BYTES + (size_t)count * ENTRY_BYTES;
    if (table_end > in->file_size)
        return IO_CKPT_FAIL(in, "truncated: the section table needs %zu bytes, the file has %llu", table_end,
                            (unsigned long long)in->file_size);
    s = read_at(in, head + HEADER_BYTES, table_end - HEADER_BYTES, HEADER_BYTES, "the section table");
    if (s != MFPO_OK) return s;
    uint32_t want_crc = le_get_u32(head + 20);
    le_put_u32(head + 20, 0);
    uint32_t got_crc = crc_update(0, head, table_end);
    if (got_crc != want_crc)
        return IO_CKPT_FAIL(in, "header and section table: CRC-32 is 0x%08x, the header records 0x%08x (corrupt file)",
                            got_crc, want_crc);
    in->count = count;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = head + HEADER_BYTES + (size_t)i * ENTRY_BYTES;
        io_ckpt_section *c = &in->sec[i];
        c->id = le_get_u32(e);
        c->offset = le_get_u64(e + 8);
        c->length = le_get_u64(e + 16);
        c->crc = le_get_u32(e + 24);
        if (c->offset < table_end || c->offset > in->file_size || c->length > in->file_size - c->offset)
            return IO_CKPT_FAIL(in,
                                "section table: section '%s' (id %u) at byte %llu with %llu bytes lies outside the "
                                "%llu-byte file",
                                section_name(in, c->id), c->id, (unsigned long long)c->offset,
                                (unsigned long long)c->length, (unsigned long long)in->file_size);
        for (uint32_t j = 0; j < i; j++)
            if (in->sec[j].id == c->id)
                return IO_CKPT_FAIL(in, "section table: section '%s' (id %u) appears twice", section_name(in, c->id),
                                    c->id);
    }
    return check_tiling(in, table_end);
}

void io_ckpt_close(io_ckpt_reader *in)
{
    if (in->fd >= 0) close(in->fd);
    in->fd = -1;
}

mfpo_status io_ckpt_expect_sections(io_ckpt_reader *in, const uint32_t *ids, size_t n)
{
    for (uint32_t i = 0; i < in->count; i++) {
        size_t k = 0;
        while (k < n && ids[k] != in->sec[i].id) k++;
        if (k == n)
            return IO_CKPT_FAIL(in, "section table: unknown section id %u for format version %u", in->sec[i].id,
                                in->version);
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t i = 0;
        while (i < in->count && in->sec[i].id != ids[k]) i++;
        if (i == in->count) return IO_CKPT_FAIL(in, "section '%s' is missing", section_name(in, ids[k]));
    }
    return MFPO_OK;
}

const io_ckpt_section *io_ckpt_find(const io_ckpt_reader *in, uint32_t id)
{
    for (uint32_t i = 0; i < in->count; i++)
        if (in->sec[i].id == id) return &in->sec[i];
    return NULL;
}

mfpo_status io_ckpt_expect_length(io_ckpt_reader *in, const io_ckpt_section *c, uint64_t want, const char *why)
{
    if (c->length != want)
        return IO_CKPT_FAIL(in, "section '%s' is %llu bytes, expected %llu (%s)", section_name(in, c->id),
                            (unsigned long long)c->length, (unsigned long long)want, why);
    return MFPO_OK;
}

mfpo_status io_ckpt_read(io_ckpt_reader *in, const io_ckpt_section *c, void *dst)
{
    char what[64];
    snprintf(what, sizeof what, "section '%s'", section_name(in, c->id));
    mfpo_status s = read_at(in, dst, (size_t)c->length, c->offset, what);
    if (s != MFPO_OK) return s;
    uint32_t crc = crc_update(0, dst, (size_t)c->length);
    if (crc != c->crc)
        return IO_CKPT_FAIL(in, "section '%s': CRC-32 is 0x%08x, the section table records 0x%08x (corrupt file)",
                            section_name(in, c->id), crc, c->crc);
    return MFPO_OK;
}
