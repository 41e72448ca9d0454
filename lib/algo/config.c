/* Agent configuration: the spec's defaults (§2–§4) and their validation. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

void mfpo_agent_config_init(mfpo_agent_config *c, size_t obs_dim, size_t act_dim)
{
    if (!c) return;
    memset(c, 0, sizeof *c);
    c->struct_size = sizeof *c;
    c->obs_dim = obs_dim;
    c->act_dim = act_dim;
    c->hidden_width = 256;
    c->hidden_depth = 3;
    c->sampling_steps = 2;
    c->policy_samples = 16;
    c->gaussian_samples = 32;
    c->hutchinson_probes = 2;
    c->atoms = 101;
    c->v_min = -1600.0f;
    c->v_max = 1600.0f;
    c->gamma = 0.99f;
    c->tau = 0.005f;
    c->lr_policy = 3e-4f;
    c->lr_divergence = 3e-4f;
    c->lr_critic = 3e-4f;
    c->lr_alpha = 3e-4f;
    c->init_alpha = 0.01f;
    c->auto_alpha = 1;
    c->target_entropy_coef = -0.5f;
    c->clipped_double_q = 1;
    c->actor_delay = 1;
    c->eval_candidates = 10;
    c->batch_size = 256;
    c->flow_fraction = 0.75f;
    c->time_mean = -0.4f;
    c->time_std = 1.0f;
    c->fourier_features = 64;
    c->time_embed_dim = 64;
    c->fourier_init_std = 0.2f;
    c->adam_beta1 = 0.9f;
    c->adam_beta2 = 0.999f;
    c->adam_eps = 1e-8f;
}

mfpo_status algo_config_import(mfpo_context *ctx, const char *who, const mfpo_agent_config *in,
                               mfpo_agent_config *out)
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

#define REQUIRE(cond, fmt, ...)                                                                     \
    do {                                                                                            \
        if (!(cond)) return core_fail(ctx, MFPO_ERR_INVALID_ARGUMENT, "%s: " fmt, who, __VA_ARGS__); \
    } while (0)

static int finite_in(float x, float lo, float hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

mfpo_status algo_config_check(mfpo_context *ctx, const char *who, const mfpo_agent_config *c)
{
    const size_t big = (size_t)1 << 20;
    REQUIRE(c->obs_dim >= 1 && c->obs_dim <= big, "config->obs_dim = %zu is outside [1, %zu]", c->obs_dim, big);
    REQUIRE(c->act_dim >= 1 && c->act_dim <= 4096, "config->act_dim = %zu is outside [1, 4096]", c->act_dim);
    REQUIRE(c->hidden_width >= 1 && c->hidden_width <= 16384, "config->hidden_width = %zu is outside [1, 16384]",
            c->hidden_width);
    REQUIRE(c->hidden_depth >= 1 && c->hidden_depth <= NN_MAX_DEPTH, "config->hidden_depth = %zu is outside [1, %d]",
            c->hidden_depth, NN_MAX_DEPTH);
    REQUIRE(c->sampling_steps >= 1 && c->sampling_steps <= 64, "config->sampling_steps = %zu is outside [1, 64]",
            c->sampling_steps);
    REQUIRE(c->policy_samples >= 1 && c->policy_samples <= 1024, "config->policy_samples = %zu is outside [1, 1024]",
            c->policy_samples);
    REQUIRE(c->gaussian_samples >= 1 && c->gaussian_samples <= 1024,
            "config->gaussian_samples = %zu is outside [1, 1024]", c->gaussian_samples);
    REQUIRE(c->hutchinson_probes >= 1 && c->hutchinson_probes <= 64,
            "config->hutchinson_probes = %zu is outside [1, 64]", c->hutchinson_probes);
    REQUIRE(c->atoms >= 2 && c->atoms <= 1024, "config->atoms = %zu is outside [2, 1024]", c->atoms);
    REQUIRE(isfinite(c->v_min) && isfinite(c->v_max) && c->v_min < c->v_max,
            "config->v_min = %g and config->v_max = %g must be finite with v_min < v_max", (double)c->v_min,
            (double)c->v_max);
    REQUIRE(finite_in(c->gamma, 0.0f, 1.0f), "config->gamma = %g is outside [0, 1]", (double)c->gamma);
    REQUIRE(finite_in(c->tau, 0.0f, 1.0f), "config->tau = %g is outside [0, 1]", (double)c->tau);
    REQUIRE(finite_in(c->lr_policy, 0.0f, 1.0f), "config->lr_policy = %g is outside [0, 1]", (double)c->lr_policy);
    REQUIRE(finite_in(c->lr_divergence, 0.0f, 1.0f), "config->lr_divergence = %g is outside [0, 1]",
            (double)c->lr_divergence);
    REQUIRE(finite_in(c->lr_critic, 0.0f, 1.0f), "config->lr_critic = %g is outside [0, 1]", (double)c->lr_critic);
    REQUIRE(finite_in(c->lr_alpha, 0.0f, 1.0f), "config->lr_alpha = %g is outside [0, 1]", (double)c->lr_alpha);
    REQUIRE(isfinite(c->init_alpha) && c->init_alpha > 0.0f && c->init_alpha < 1e30f,
            "config->init_alpha = %g must be finite and > 0", (double)c->init_alpha);
    REQUIRE(c->auto_alpha == 0 || c->auto_alpha == 1, "config->auto_alpha = %d is not 0 or 1", c->auto_alpha);
    REQUIRE(isfinite(c->target_entropy_coef), "config->target_entropy_coef = %g is not finite",
            (double)c->target_entropy_coef);
    REQUIRE(c->clipped_double_q == 0 || c->clipped_double_q == 1, "config->clipped_double_q = %d is not 0 or 1",
            c->clipped_double_q);
    REQUIRE(c->actor_delay >= 1 && c->actor_delay <= 1000000, "config->actor_delay = %zu is outside [1, 1000000]",
            c->actor_delay);
    REQUIRE(c->eval_candidates >= 1 && c->eval_candidates <= 1024,
            "config->eval_candidates = %zu is outside [1, 1024]", c->eval_candidates);
    REQUIRE(c->batch_size >= 1 && c->batch_size <= 65536, "config->batch_size = %zu is outside [1, 65536]",
            c->batch_size);
    REQUIRE(finite_in(c->flow_fraction, 0.0f, 1.0f), "config->flow_fraction = %g is outside [0, 1]",
            (double)c->flow_fraction);
    REQUIRE(isfinite(c->time_mean), "config->time_mean = %g is not finite", (double)c->time_mean);
    REQUIRE(finite_in(c->time_std, 0.0f, 1e6f), "config->time_std = %g is outside [0, 1e6]", (double)c->time_std);
    REQUIRE(c->fourier_features >= 1 && c->fourier_features <= 4096,
            "config->fourier_features = %zu is outside [1, 4096]", c->fourier_features);
    REQUIRE(c->time_embed_dim >= 1 && c->time_embed_dim <= 4096, "config->time_embed_dim = %zu is outside [1, 4096]",
            c->time_embed_dim);
    REQUIRE(finite_in(c->fourier_init_std, 0.0f, 1e6f), "config->fourier_init_std = %g is outside [0, 1e6]",
            (double)c->fourier_init_std);
    REQUIRE(finite_in(c->adam_beta1, 0.0f, 0.999999f), "config->adam_beta1 = %g is outside [0, 1)",
            (double)c->adam_beta1);
    REQUIRE(finite_in(c->adam_beta2, 0.0f, 0.999999f), "config->adam_beta2 = %g is outside [0, 1)",
            (double)c->adam_beta2);
    REQUIRE(finite_in(c->adam_eps, 1e-30f, 1.0f), "config->adam_eps = %g is outside (0, 1]", (double)c->adam_eps);
    /* the largest row count of any workspace must not overflow size_t arithmetic */
    REQUIRE(c->batch_size * (c->policy_samples + c->gaussian_samples) <= ((size_t)1 << 26),
            "config->batch_size * (policy_samples + gaussian_samples) = %zu exceeds 2^26 rows",
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
