/* Agent configuration: the paper's defaults (docs/algorithm.md §2.5) and their validation, both
 * generated from the table of fields in config_fields.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_fields.h"
#include "internal.h"

_Static_assert(NN_MAX_DEPTH == 8, "config_fields.h: the bound of hidden_depth is NN_MAX_DEPTH");

#define CONFIG_SET_DEFAULT(name, def) c->name = def;
#define CONFIG_SET_ARGUMENT(name, def)
#define CONFIG_INIT_ROW(name, type, origin, def, check, lo, hi, bounds, doc) CONFIG_SET_##origin(name, def)

void mfpo_agent_config_init(mfpo_agent_config *c, size_t obs_dim, size_t act_dim)
{
    if (!c) return;
    memset(c, 0, sizeof *c);
    c->struct_size = sizeof *c;
    c->obs_dim = obs_dim;
    c->act_dim = act_dim;
    MFPO_CONFIG_FIELDS(CONFIG_INIT_ROW)
}

#define CONFIG_ROW(name, type, origin, def, check, lo, hi, bounds, doc)                                                \
    { #name,                                                                                                           \
      CONFIG_TYPE_##type,                                                                                              \
      offsetof(mfpo_agent_config, name),                                                                               \
      CONFIG_FROM_##origin,                                                                                            \
      (double)(def),                                                                                                   \
      CONFIG_CHECK_##check,                                                                                            \
      (double)(lo),                                                                                                    \
      (double)(hi),                                                                                                    \
      bounds,                                                                                                          \
      doc },
#define CONFIG_FROM_DEFAULT 0
#define CONFIG_FROM_ARGUMENT 1

const config_field config_fields[] = { MFPO_CONFIG_FIELDS(CONFIG_ROW) };
const size_t config_field_count = sizeof config_fields / sizeof config_fields[0];

const config_field *config_field_find(const char *name, size_t len)
{
    for (size_t i = 0; i < config_field_count; i++)
        if (strlen(config_fields[i].name) == len && memcmp(config_fields[i].name, name, len) == 0)
            return &config_fields[i];
    return NULL;
}

size_t config_field_width(config_type type)
{
    return type == CONFIG_TYPE_SIZE ? 8 : 4;
}

double config_field_get(const config_field *f, const mfpo_agent_config *c)
{
    const unsigned char *p = (const unsigned char *)c + f->offset;
    if (f->type == CONFIG_TYPE_SIZE) {
        size_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    if (f->type == CONFIG_TYPE_FLOAT) {
        float v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    int v;
    memcpy(&v, p, sizeof v);
    return (double)v;
}

mfpo_status algo_config_import(mfpo_context *ctx, const char *who, const mfpo_agent_config *in, mfpo_agent_config *out)
{
    if (!in) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: argument 'config' is NULL", who);
    if (in->struct_size < offsetof(mfpo_agent_config, adam_eps) + sizeof(float) || in->struct_size > (1u << 20))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: config->struct_size = %zu is not a size this library knows (expected %zu; call "
                         "mfpo_agent_config_init first)",
                         who, in->struct_size, sizeof *out);
    mfpo_agent_config_init(out, in->obs_dim, in->act_dim);
    memcpy(out, in, in->struct_size < sizeof *out ? in->struct_size : sizeof *out);
    out->struct_size = sizeof *out;
    return algo_config_check(ctx, who, out);
}

/* Checks one field against its row; on failure records "who: config->name = value <why>". */
static mfpo_status check_field(mfpo_context *ctx, const char *who, const config_field *f, const mfpo_agent_config *c)
{
    const unsigned char *p = (const unsigned char *)c + f->offset;
    if (f->type == CONFIG_TYPE_SIZE) {
        size_t v;
        memcpy(&v, p, sizeof v);
        if (v >= (size_t)f->lo && v <= (size_t)f->hi) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: config->%s = %zu is outside %s", who, f->name, v,
                         f->bounds);
    }
    if (f->type == CONFIG_TYPE_FLAG) {
        int v;
        memcpy(&v, p, sizeof v);
        if (v == 0 || v == 1) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: config->%s = %d is not 0 or 1", who, f->name, v);
    }
    float v;
    memcpy(&v, p, sizeof v);
    const double x = (double)v;
    switch (f->check) {
    case CONFIG_CHECK_RANGE:
        if (isfinite(v) && x >= f->lo && x <= f->hi) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: config->%s = %g is outside %s", who, f->name, x,
                         f->bounds);
    case CONFIG_CHECK_FINITE:
        if (isfinite(v)) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: config->%s = %g is not finite", who, f->name, x);
    case CONFIG_CHECK_POSITIVE:
        if (isfinite(v) && x > f->lo && x < f->hi) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: config->%s = %g must be finite and %s", who, f->name, x,
                         f->bounds);
    case CONFIG_CHECK_PAIR_LOW: {
        const config_field *g = f + 1; /* the PAIR_HIGH row */
        float w;
        memcpy(&w, (const unsigned char *)c + g->offset, sizeof w);
        if (isfinite(v) && isfinite(w) && v < w) return MFPO_OK;
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: config->%s = %g and config->%s = %g must be finite with %s < %s", who, f->name, x,
                         g->name, (double)w, f->name, g->name);
    }
    case CONFIG_CHECK_PAIR_HIGH:
        return MFPO_OK; /* checked with its PAIR_LOW row */
    case CONFIG_CHECK_FLAG:
        break;
    }
    return MFPO_OK;
}

mfpo_status algo_config_check(mfpo_context *ctx, const char *who, const mfpo_agent_config *c)
{
    for (size_t i = 0; i < config_field_count; i++) {
        mfpo_status s = check_field(ctx, who, &config_fields[i], c);
        if (s != MFPO_OK) return s;
    }
    /* the largest row count of any workspace must not overflow size_t arithmetic */
    if (c->batch_size * (c->policy_samples + c->gaussian_samples) > ((size_t)1 << 26))
        return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT,
                         "%s: config->batch_size * (policy_samples + gaussian_samples) = %zu exceeds 2^26 rows", who,
                         c->batch_size * (c->policy_samples + c->gaussian_samples));
    return MFPO_OK;
}

void algo_flow_layout(nn_layout *l, const mfpo_agent_config *c, size_t out)
{
    nn_layout_init(l, c->act_dim + c->obs_dim, out, 1, c->hidden_width, c->hidden_depth, c->fourier_features,
                   c->time_embed_dim);
}

void algo_critic_layout(nn_layout *l, const mfpo_agent_config *c)
{
    nn_layout_init(l, c->obs_dim + c->act_dim, c->atoms, 0, c->hidden_width, c->hidden_depth, 0, 0);
}
