/*
 * The checkpoint container (docs/checkpoint-format.md): a 32-byte header (magic, format version,
 * kind, section count, CRC-32 of header and table, file size), a table of up to 16 sections, and
 * the sections' payloads at 8-byte boundaries with zero padding, each with its own CRC-32; all
 * little-endian. It knows nothing of what the sections hold: the codecs (lib/algo/checkpoint.c,
 * lib/algo/config_codec.c) say which sections a kind has, what they are called, and what is in
 * them.
 *
 * Writing lays out the whole file and replaces the destination atomically (atomic_file.h).
 * Reading verifies before anything is used: io_ckpt_open() checks the header, the table and that
 * the payloads tile the file; io_ckpt_read() checks a payload's CRC. Every refusal is
 * MFPO_ERR_FORMAT, "<who>: '<path>': <what was found, what was expected>".
 */
#ifndef MFPO_IO_CONTAINER_H
#define MFPO_IO_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ctx.h"

/* The version this library writes, and the oldest it reads. */
#define IO_CKPT_VERSION 2u
#define IO_CKPT_OLDEST_VERSION 1u
#define IO_CKPT_MAX_SECTIONS 16u

/* What a kind of checkpoint calls its sections and itself, for messages. */
typedef struct io_ckpt_names {
    const char *(*section)(uint32_t id); /* "config", ...; "unknown" for ids it does not have */
    const char *(*kind)(uint32_t kind);  /* "an agent checkpoint", ... */
} io_ckpt_names;

/* A section to write: head_len bytes as they go into the file, then n host floats (written
 * little-endian). */
typedef struct io_ckpt_out {
    uint32_t id;
    const unsigned char *head;
    size_t head_len;
    const float *data;
    size_t n;
} io_ckpt_out;

/* Writes a checkpoint of format IO_CKPT_VERSION with the given sections (at most
 * IO_CKPT_MAX_SECTIONS, payloads in this order) atomically to path. */
mfpo_status io_ckpt_write(mfpo_context *ctx, const char *who, const char *path, uint32_t kind, const io_ckpt_out *sec,
                          size_t count);

typedef struct io_ckpt_section {
    uint32_t id, crc;
    uint64_t offset, length;
} io_ckpt_section;

typedef struct io_ckpt_reader {
    mfpo_context *ctx;
    const char *who, *path;
    const io_ckpt_names *names;
    int fd;
    uint64_t file_size;
    uint32_t version; /* of the file: IO_CKPT_OLDEST_VERSION .. IO_CKPT_VERSION */
    uint32_t count;
    io_ckpt_section sec[IO_CKPT_MAX_SECTIONS];
} io_ckpt_reader;

/* Records MFPO_ERR_FORMAT on the reader's context: "<who>: '<path>': <message>". */
#define IO_CKPT_FAIL(in, fmt, ...)                                                                                     \
    core_fail((in)->ctx, MFPO_ERR_FORMAT, "%s: '%s': " fmt, (in)->who, (in)->path, __VA_ARGS__)

/* Opens path and verifies the header (a version this library reads, the wanted kind) and the
 * section table. Close the reader in any case. */
mfpo_status io_ckpt_open(io_ckpt_reader *in, mfpo_context *ctx, const char *who, const char *path, uint32_t kind,
                         const io_ckpt_names *names);

/* Checks that the file has exactly the sections ids[0..n), each once (in any table order). */
mfpo_status io_ckpt_expect_sections(io_ckpt_reader *in, const uint32_t *ids, size_t n);

/* The table entry of a section (NULL when absent; never after io_ckpt_expect_sections). */
const io_ckpt_section *io_ckpt_find(const io_ckpt_reader *in, uint32_t id);

/* Checks a section's length against what the object needs; `why` explains the expectation. */
mfpo_status io_ckpt_expect_length(io_ckpt_reader *in, const io_ckpt_section *c, uint64_t want, const char *why);

/* Reads a whole payload into dst (c->length bytes) and verifies its CRC. */
mfpo_status io_ckpt_read(io_ckpt_reader *in, const io_ckpt_section *c, void *dst);

void io_ckpt_close(io_ckpt_reader *in);

#endif
