/* The configuration section of agent checkpoints, versions 1 and 2 (config_codec.h). */
#include "config_codec.h"

#include <stdio.h>
#include <string.h>

#include "../io/le.h"
#include "config_fields.h"

/* Type tags of version 2. */
enum { TAG_U64 = 1, TAG_F32 = 2, TAG_I32 = 3 };

#define NAME_MAX_BYTES 64u

/* Format version 1: the fields of mfpo_agent_config at the time, by position. Frozen with the
 * format: it never changes, whatever is added to the table. */
static const char *const V1_FIELDS[] = {
    "obs_dim",
    "act_dim",
    "hidden_width",
    "hidden_depth",
    "sampling_steps",
    "policy_samples",
    "gaussian_samples",
    "hutchinson_probes",
    "atoms",
    "v_min",
    "v_max",
    "gamma",
    "tau",
    "lr_policy",
    "lr_divergence",
    "lr_critic",
    "lr_alpha",
    "init_alpha",
    "auto_alpha",
    "target_entropy_coef",
    "clipped_double_q",
    "actor_delay",
    "eval_candidates",
    "batch_size",
    "flow_fraction",
    "time_mean",
    "time_std",
    "fourier_features",
    "time_embed_dim",
    "fourier_init_std",
    "adam_beta1",
    "adam_beta2",
    "adam_eps",
};
#define V1_COUNT (sizeof V1_FIELDS / sizeof V1_FIELDS[0])

static int type_tag(config_type t)
{
    return t == CONFIG_TYPE_SIZE ? TAG_U64 : t == CONFIG_TYPE_FLOAT ? TAG_F32 : TAG_I32;
}

static const char *tag_name(int tag)
{
    return tag == TAG_U64 ? "u64" : tag == TAG_F32 ? "f32" : tag == TAG_I32 ? "i32" : "unknown";
}

/* A field's value as its bits in the file (u64 for sizes, the 32 bits of a float or an int). */
static uint64_t field_bits(const config_field *f, const mfpo_agent_config *c)
{
    const unsigned char *p = (const unsigned char *)c + f->offset;
    if (f->type == CONFIG_TYPE_SIZE) {
        size_t v;
        memcpy(&v, p, sizeof v);
        return (uint64_t)v;
    }
    uint32_t v; /* float and int are both 32 bits wide (config.c) */
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t default_bits(const config_field *f)
{
    if (f->type == CONFIG_TYPE_SIZE) return (uint64_t)f->def;
    if (f->type == CONFIG_TYPE_FLOAT) {
        float v = (float)f->def;
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        return u;
    }
    return (uint32_t)(int32_t)f->def;
}

static uint64_t read_bits(const unsigned char *p, config_type t)
{
    return t == CONFIG_TYPE_SIZE ? le_get_u64(p) : le_get_u32(p);
}

/* The value of bits of type t as text, the way the messages print it. */
static void bits_text(uint64_t bits, config_type t, char *out, size_t n)
{
    if (t == CONFIG_TYPE_SIZE) {
        snprintf(out, n, "%llu", (unsigned long long)bits);
    } else if (t == CONFIG_TYPE_FLOAT) {
        uint32_t u = (uint32_t)bits;
        float f;
        memcpy(&f, &u, sizeof f);
        snprintf(out, n, "%.9g", (double)f);
    } else {
        snprintf(out, n, "%ld", (long)(int32_t)(uint32_t)bits);
    }
}

size_t config_codec_size(void)
{
    size_t n = 8;
    for (size_t i = 0; i < config_field_count; i++)
        n += 2 + strlen(config_fields[i].name) + config_field_width(config_fields[i].type);
    return n;
}

void config_codec_encode(unsigned char *p, const mfpo_agent_config *c)
{
    le_put_u32(p, (uint32_t)config_field_count);
    le_put_u32(p + 4, 0);
    p += 8;
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        size_t len = strlen(f->name);
        p[0] = (unsigned char)type_tag(f->type);
        p[1] = (unsigned char)len;
        memcpy(p + 2, f->name, len);
        p += 2 + len;
        uint64_t bits = field_bits(f, c);
        if (f->type == CONFIG_TYPE_SIZE)
            le_put_u64(p, bits);
        else
            le_put_u32(p, (uint32_t)bits);
        p += config_field_width(f->type);
    }
}

/* What the file says about the table's fields: present[i] and bits[i] per row. */
typedef struct decoded {
    unsigned char present[256];
    uint64_t bits[256];
} decoded;

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), -1)

size_t config_codec_v1_size(void)
{
    size_t n = 8;
    for (size_t i = 0; i < V1_COUNT; i++) {
        const config_field *f = config_field_find(V1_FIELDS[i], strlen(V1_FIELDS[i]));
        n += f ? config_field_width(f->type) : 0; /* fields are never removed from the table */
    }
    return n;
}

size_t config_codec_v1_count(void)
{
    return V1_COUNT;
}

static int decode_v1(const unsigned char *p, size_t len, decoded *d, char *why, size_t why_size)
{
    size_t want = config_codec_v1_size();
    for (size_t i = 0; i < V1_COUNT; i++)
        if (!config_field_find(V1_FIELDS[i], strlen(V1_FIELDS[i])))
            return WHY("format version 1 field '%s' is not in this library's table", V1_FIELDS[i]);
    if (len != want)
        return WHY("%zu bytes, expected %zu (format version 1 stores %zu configuration fields)", len, want,
                   (size_t)V1_COUNT);
    uint32_t count = le_get_u32(p);
    if (count != V1_COUNT) return WHY("%u fields, format version 1 has %zu", count, (size_t)V1_COUNT);
    p += 8;
    for (size_t i = 0; i < V1_COUNT; i++) {
        const config_field *f = config_field_find(V1_FIELDS[i], strlen(V1_FIELDS[i]));
        size_t row = (size_t)(f - config_fields);
        d->present[row] = 1;
        d->bits[row] = read_bits(p, f->type);
        p += config_field_width(f->type);
    }
    return 0;
}

static int decode_v2(const unsigned char *p, size_t len, decoded *d, char *why, size_t why_size)
{
    if (len < 8) return WHY("%zu bytes, too short for the field count", len);
    uint32_t count = le_get_u32(p);
    if (le_get_u32(p + 4) != 0) return WHY("reserved word is %u, expected 0", le_get_u32(p + 4));
    if (count > 256) return WHY("%u fields, at most 256 are read", count);
    size_t at = 8;
    for (uint32_t k = 0; k < count; k++) {
        if (len - at < 2) return WHY("field %u is cut off at byte %zu of %zu", k + 1, at, len);
        int tag = p[at];
        size_t name_len = p[at + 1];
        if (tag != TAG_U64 && tag != TAG_F32 && tag != TAG_I32)
            return WHY("field %u has type tag %d, expected 1 (u64), 2 (f32) or 3 (i32)", k + 1, tag);
        if (name_len == 0 || name_len > NAME_MAX_BYTES)
            return WHY("field %u has a name of %zu bytes, expected 1 to %u", k + 1, name_len, NAME_MAX_BYTES);
        size_t width = tag == TAG_U64 ? 8 : 4;
        if (len - at - 2 < name_len + width) return WHY("field %u is cut off at byte %zu of %zu", k + 1, at, len);
        const char *name = (const char *)p + at + 2;
        for (size_t j = 0; j < name_len; j++) {
            char ch = name[j];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
                return WHY("field %u has a name with byte 0x%02x, expected [a-z0-9_]", k + 1, (unsigned char)ch);
        }
        const config_field *f = config_field_find(name, name_len);
        if (!f)
            return WHY("field '%.*s' is not one this library knows (written by a newer libmfpo?)", (int)name_len, name);
        if (tag != type_tag(f->type))
            return WHY("field '%s' is stored as %s, expected %s", f->name, tag_name(tag), tag_name(type_tag(f->type)));
        size_t row = (size_t)(f - config_fields);
        if (d->present[row]) return WHY("field '%s' appears twice", f->name);
        d->present[row] = 1;
        d->bits[row] = read_bits(p + at + 2 + name_len, f->type);
        at += 2 + name_len + width;
    }
    if (at != len) return WHY("%zu bytes follow the last of %u fields", len - at, count);
    return 0;
}

int config_codec_compare(const unsigned char *p, size_t len, uint32_t version, const mfpo_agent_config *have, char *why,
                         size_t why_size)
{
    decoded local;
    memset(&local, 0, sizeof local);
    if (config_field_count > 256) return WHY("%s", "the configuration table has more than 256 fields");
    int r = version == 1 ? decode_v1(p, len, &local, why, why_size) : decode_v2(p, len, &local, why, why_size);
    if (r != 0) return r;
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        char in_file[48], in_agent[48];
        uint64_t want = field_bits(f, have);
        if (!local.present[i]) {
            if (f->from_argument) return WHY("field '%s' is missing", f->name);
            /* written before the field existed: the file's agent ran with the default */
            uint64_t def = default_bits(f);
            if (def == want) continue;
            bits_text(def, f->type, in_file, sizeof in_file);
            bits_text(want, f->type, in_agent, sizeof in_agent);
            return WHY("%s is absent from the file (written before it existed: the default %s) but %s in this agent",
                       f->name, in_file, in_agent);
        }
        if (local.bits[i] == want) continue;
        bits_text(local.bits[i], f->type, in_file, sizeof in_file);
        bits_text(want, f->type, in_agent, sizeof in_agent);
        return WHY("%s is %s in the file but %s in this agent", f->name, in_file, in_agent);
    }
    return 0;
}
