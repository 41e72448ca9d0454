/*
 * A tiny independent reader/writer of the checkpoint container (docs/checkpoint-format.md), for
 * tests and fuzz targets: whole-file I/O, field access, and re-computation of every CRC so that
 * a deliberately altered file reaches the loader's semantic checks instead of its CRC check.
 * Header-only; needs zlib.
 */
#ifndef MFPO_TESTS_CKPT_FILE_H
#define MFPO_TESTS_CKPT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define CKF_HEADER 32u
#define CKF_ENTRY 32u
#define CKF_MAX_SECTIONS 16u
#define CKF_VERSION 2u /* the version ckf_build writes: the library's */

static inline uint32_t ckf_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ckf_u64(const unsigned char *p)
{
    return (uint64_t)ckf_u32(p) | (uint64_t)ckf_u32(p + 4) << 32;
}

static inline void ckf_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline void ckf_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Reads a whole file into malloc'd memory; NULL on error. */
static inline unsigned char *ckf_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    *len = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

/* Writes len bytes to path (plainly, not atomically); 0 on success. */
static inline int ckf_write(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = (len == 0 || fwrite(buf, 1, len, f) == len);
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

/* Number of sections the table claims (0 when the header is cut off). */
static inline uint32_t ckf_count(const unsigned char *buf, size_t len)
{
    return len >= CKF_HEADER ? ckf_u32(buf + 16) : 0;
}

/* Pointer to table entry i, or NULL when outside the buffer. */
static inline unsigned char *ckf_entry(unsigned char *buf, size_t len, uint32_t i)
{
    size_t at = CKF_HEADER + (size_t)i * CKF_ENTRY;
    return i < CKF_MAX_SECTIONS && at + CKF_ENTRY <= len ? buf + at : NULL;
}

/* Index of the section with this id, or -1. */
static inline int ckf_find(unsigned char *buf, size_t len, uint32_t id)
{
    uint32_t n = ckf_count(buf, len);
    for (uint32_t i = 0; i < n && i < CKF_MAX_SECTIONS; i++) {
        unsigned char *e = ckf_entry(buf, len, i);
        if (e && ckf_u32(e) == id) return (int)i;
    }
    return -1;
}

/* Payload of section id (its offset and length checked against the buffer), or NULL. */
static inline unsigned char *ckf_payload(unsigned char *buf, size_t len, uint32_t id, size_t *plen)
{
    int i = ckf_find(buf, len, id);
    if (i < 0) return NULL;
    unsigned char *e = ckf_entry(buf, len, (uint32_t)i);
    uint64_t off = ckf_u64(e + 8), n = ckf_u64(e + 16);
    if (off > len || n > len - off) return NULL;
    if (plen) *plen = (size_t)n;
    return buf + off;
}

/* Recomputes every section CRC that lies inside the buffer, then the header CRC. */
static inline void ckf_fix_crcs(unsigned char *buf, size_t len)
{
    if (len < CKF_HEADER) return;
    uint32_t n = ckf_count(buf, len);
    if (n > CKF_MAX_SECTIONS) n = CKF_MAX_SECTIONS;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = ckf_entry(buf, len, i);
        if (!e) break;
        uint64_t off = ckf_u64(e + 8), sl = ckf_u64(e + 16);
        if (off <= len && sl <= len - off && sl < ((uint64_t)1 << 31))
            ckf_put_u32(e + 24, (uint32_t)crc32(0, buf + off, (uInt)sl));
    }
    size_t table_end = CKF_HEADER + (size_t)n * CKF_ENTRY;
    if (table_end > len) return;
    ckf_put_u32(buf + 20, 0);
    ckf_put_u32(buf + 20, (uint32_t)crc32(0, buf, (uInt)table_end));
}

typedef struct ckf_section {
    uint32_t id;
    const unsigned char *data;
    size_t len;
} ckf_section;

/* Builds a well-formed container of format `version` and the given kind from raw section payloads,
 * laid out as the library does; malloc'd, length in *len. */
static inline unsigned char *ckf_build_version(uint32_t version, uint32_t kind, const ckf_section *sec, uint32_t n,
                                               size_t *len)
{
    size_t at = CKF_HEADER + (size_t)n * CKF_ENTRY, total = at;
    for (uint32_t i = 0; i < n; i++) total = (total + 7) / 8 * 8 + sec[i].len;
    unsigned char *b = calloc(1, total + 1);
    memcpy(b, "MFPOCKPT", 8);
    ckf_put_u32(b + 8, version);
    ckf_put_u32(b + 12, kind);
    ckf_put_u32(b + 16, n);
    ckf_put_u64(b + 24, total);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = b + CKF_HEADER + (size_t)i * CKF_ENTRY;
        at = (at + 7) / 8 * 8;
        ckf_put_u32(e, sec[i].id);
        ckf_put_u64(e + 8, at);
        ckf_put_u64(e + 16, sec[i].len);
        if (sec[i].len) memcpy(b + at, sec[i].data, sec[i].len);
        at += sec[i].len;
    }
    *len = total;
    ckf_fix_crcs(b, total);
    return b;
}

static inline unsigned char *ckf_build(uint32_t kind, const ckf_section *sec, uint32_t n, size_t *len)
{
    return ckf_build_version(CKF_VERSION, kind, sec, n, len);
}

/*
 * Version-2 configuration section (section 1): u32 count, u32 0, then per field u8 type tag
 * (1 u64, 2 f32, 3 i32), u8 name length, the name, the value. Returns the entry of field `name`
 * (its type tag byte) in the payload p of plen bytes, or NULL.
 */
static inline unsigned char *ckf_config_entry(unsigned char *p, size_t plen, const char *name)
{
    size_t at = 8, want = strlen(name);
    uint32_t count = plen >= 8 ? ckf_u32(p) : 0;
    for (uint32_t k = 0; k < count && at + 2 <= plen; k++) {
        size_t nl = p[at + 1], width = p[at] == 1 ? 8 : 4;
        if (at + 2 + nl + width > plen) return NULL;
        if (nl == want && memcmp(p + at + 2, name, nl) == 0) return p + at;
        at += 2 + nl + width;
    }
    return NULL;
}

/* The value bytes of a version-2 config field (after its name), or NULL. */
static inline unsigned char *ckf_config_value(unsigned char *p, size_t plen, const char *name)
{
    unsigned char *e = ckf_config_entry(p, plen, name);
    return e ? e + 2 + e[1] : NULL;
}

/* A copy of the version-2 config payload p without field `name` (count decremented); malloc'd. */
static inline unsigned char *ckf_config_without(const unsigned char *p, size_t plen, const char *name, size_t *out_len)
{
    unsigned char *copy = malloc(plen + 1);
    memcpy(copy, p, plen);
    unsigned char *e = ckf_config_entry(copy, plen, name);
    *out_len = plen;
    if (!e) return copy;
    size_t entry = 2 + e[1] + (e[0] == 1 ? 8 : 4);
    memmove(e, e + entry, (size_t)(copy + plen - (e + entry)));
    ckf_put_u32(copy, ckf_u32(copy) - 1);
    *out_len = plen - entry;
    return copy;
}

#endif
