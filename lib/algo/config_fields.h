/*
 * The one table of the agent configuration's fields (include/mfpo/config.h). Everything that
 * lists the fields is generated from it: the defaults (mfpo_agent_config_init), the checks
 * (algo_config_check), the checkpoint encoding of the configuration (config_codec.c), and the
 * table of docs/algorithm.md §2.5 (tools/config_table). A new field is one row here, appended in
 * the order of the struct (tests/algo/test_config_table.c checks that the rows cover the struct
 * field by field).
 *
 * Row: X(name, type, origin, default, check, lo, hi, bounds, doc)
 *   type    SIZE (size_t; u64 in a checkpoint), FLOAT (float; f32), FLAG (int 0 or 1; i32).
 *           A field's type never changes: a field of another type is a new field.
 *   origin  DEFAULT: mfpo_agent_config_init() sets `default`; ARGUMENT: set from its arguments.
 *   check   RANGE     lo <= x <= hi (floats also finite)
 *           FINITE    finite
 *           POSITIVE  finite and lo < x < hi
 *           FLAG      0 or 1
 *           PAIR_LOW  finite, and below the next row (PAIR_HIGH, finite): v_min < v_max
 *   bounds  the allowed values as messages and the docs print them ("is outside [0, 1]").
 *   doc     one line for the docs table.
 */
#ifndef MFPO_ALGO_CONFIG_FIELDS_H
#define MFPO_ALGO_CONFIG_FIELDS_H

#include <stddef.h>

#include <mfpo/config.h>

/* clang-format off */
#define MFPO_CONFIG_FIELDS(X) \
    X(obs_dim,             SIZE,  ARGUMENT, 0,       RANGE,     1, 1048576,    "[1, 1048576]",   "observation size S") \
    X(act_dim,             SIZE,  ARGUMENT, 0,       RANGE,     1, 4096,       "[1, 4096]",      "action size A; actions in [-1, 1]^A") \
    X(hidden_width,        SIZE,  DEFAULT,  256,     RANGE,     1, 16384,      "[1, 16384]",     "width of every hidden layer, all networks") \
    X(hidden_depth,        SIZE,  DEFAULT,  3,       RANGE,     1, 8,          "[1, 8]",         "hidden layers per network") \
    X(sampling_steps,      SIZE,  DEFAULT,  2,       RANGE,     1, 64,         "[1, 64]",        "sampler steps T (§3)") \
    X(policy_samples,      SIZE,  DEFAULT,  16,      RANGE,     1, 1024,       "[1, 1024]",      "K1, policy-proposal samples per state (§4b)") \
    X(gaussian_samples,    SIZE,  DEFAULT,  32,      RANGE,     1, 1024,       "[1, 1024]",      "K2, Gaussian-proposal samples per state (§4b)") \
    X(hutchinson_probes,   SIZE,  DEFAULT,  2,       RANGE,     1, 64,         "[1, 64]",        "probes of the divergence estimate (§4c)") \
    X(atoms,               SIZE,  DEFAULT,  101,     RANGE,     2, 1024,       "[2, 1024]",      "critic atoms N") \
    X(v_min,               FLOAT, DEFAULT,  -1600.0f, PAIR_LOW, 0, 0,          "finite, < v_max", "lowest atom") \
    X(v_max,               FLOAT, DEFAULT,  1600.0f, PAIR_HIGH, 0, 0,          "finite, > v_min", "highest atom") \
    X(gamma,               FLOAT, DEFAULT,  0.99f,   RANGE,     0, 1,          "[0, 1]",         "discount") \
    X(tau,                 FLOAT, DEFAULT,  0.005f,  RANGE,     0, 1,          "[0, 1]",         "Polyak rate of the target critics") \
    X(lr_policy,           FLOAT, DEFAULT,  3e-4f,   RANGE,     0, 1,          "[0, 1]",         "Adam learning rate of u") \
    X(lr_divergence,       FLOAT, DEFAULT,  3e-4f,   RANGE,     0, 1,          "[0, 1]",         "Adam learning rate of d") \
    X(lr_critic,           FLOAT, DEFAULT,  3e-4f,   RANGE,     0, 1,          "[0, 1]",         "Adam learning rate of the critics") \
    X(lr_alpha,            FLOAT, DEFAULT,  3e-4f,   RANGE,     0, 1,          "[0, 1]",         "Adam learning rate of log alpha") \
    X(init_alpha,          FLOAT, DEFAULT,  0.01f,   POSITIVE,  0, 1e30f,      "> 0",            "initial temperature alpha") \
    X(auto_alpha,          FLAG,  DEFAULT,  1,       FLAG,      0, 1,          "0 or 1",         "1: learn alpha (§4d); 0: keep init_alpha") \
    X(target_entropy_coef, FLOAT, DEFAULT,  -0.5f,   FINITE,    0, 0,          "finite",         "target entropy = coef * act_dim") \
    X(clipped_double_q,    FLAG,  DEFAULT,  1,       FLAG,      0, 1,          "0 or 1",         "1: min of the two critics; 0: their mean") \
    X(actor_delay,         SIZE,  DEFAULT,  1,       RANGE,     1, 1000000,    "[1, 1000000]",   "(b)-(d) run every this many critic steps") \
    X(eval_candidates,     SIZE,  DEFAULT,  10,      RANGE,     1, 1024,       "[1, 1024]",      "candidates scored by action selection (§3.2)") \
    X(batch_size,          SIZE,  DEFAULT,  256,     RANGE,     1, 65536,      "[1, 65536]",     "update batch B") \
    X(flow_fraction,       FLOAT, DEFAULT,  0.75f,   RANGE,     0, 1,          "[0, 1]",         "share of rows with r = t in (b) and (c)") \
    X(time_mean,           FLOAT, DEFAULT,  -0.4f,   FINITE,    0, 0,          "finite",         "mean of the logit-normal (t, r) draws") \
    X(time_std,            FLOAT, DEFAULT,  1.0f,    RANGE,     0, 1e6f,       "[0, 1e6]",       "std of the logit-normal draws") \
    X(fourier_features,    SIZE,  DEFAULT,  64,      RANGE,     1, 4096,       "[1, 4096]",      "Fourier features F per time embedder") \
    X(time_embed_dim,      SIZE,  DEFAULT,  64,      RANGE,     1, 4096,       "[1, 4096]",      "width D of the time embedding") \
    X(fourier_init_std,    FLOAT, DEFAULT,  0.2f,    RANGE,     0, 1e6f,       "[0, 1e6]",       "std of the Fourier frequencies at init") \
    X(adam_beta1,          FLOAT, DEFAULT,  0.9f,    RANGE,     0, 0.999999f,  "[0, 1)",         "Adam beta1") \
    X(adam_beta2,          FLOAT, DEFAULT,  0.999f,  RANGE,     0, 0.999999f,  "[0, 1)",         "Adam beta2") \
    X(adam_eps,            FLOAT, DEFAULT,  1e-8f,   RANGE,     1e-30f, 1.0f,  "(0, 1]",         "Adam epsilon")
/* clang-format on */

typedef enum { CONFIG_TYPE_SIZE, CONFIG_TYPE_FLOAT, CONFIG_TYPE_FLAG } config_type;
typedef enum {
    CONFIG_CHECK_RANGE,
    CONFIG_CHECK_FINITE,
    CONFIG_CHECK_POSITIVE,
    CONFIG_CHECK_FLAG,
    CONFIG_CHECK_PAIR_LOW,
    CONFIG_CHECK_PAIR_HIGH
} config_check;

/* One row of the table as data, for the code that walks the fields (checks, codec, docs). */
typedef struct config_field {
    const char *name;
    config_type type;
    size_t offset;     /* in mfpo_agent_config */
    int from_argument; /* obs_dim, act_dim: no default */
    double def;        /* the default (exact for every type) */
    config_check check;
    double lo, hi;      /* bounds as the check compares them (floats: the float values) */
    const char *bounds; /* as printed */
    const char *doc;
} config_field;

/* The rows in struct order, and their number. */
extern const config_field config_fields[];
extern const size_t config_field_count;

/* The row of a field name, or NULL. */
const config_field *config_field_find(const char *name, size_t len);

/* A field's value as a double (exact for every type), and the width of its type in a checkpoint. */
double config_field_get(const config_field *f, const mfpo_agent_config *c);
size_t config_field_width(config_type type);

#endif
