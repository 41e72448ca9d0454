/*
 * Little-endian encoding of the checkpoint files (docs/checkpoint-format.md): every integer and
 * float is stored least significant byte first, whatever the host.
 */
#ifndef MFPO_IO_LE_H
#define MFPO_IO_LE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int le_host_is_little(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static inline void le_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline void le_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline void le_put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    le_put_u32(p, v);
}

static inline uint32_t le_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint64_t le_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline float le_get_f32(const unsigned char *p)
{
    uint32_t v = le_get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* Converts n floats stored little-endian at p to host order in place (no-op on little-endian). */
static inline void le_floats_to_host(unsigned char *p, size_t n)
{
    if (le_host_is_little()) return;
    for (size_t i = 0; i < n; i++) {
        float f = le_get_f32(p + 4 * i);
        memcpy(p + 4 * i, &f, 4);
    }
}

#endif
