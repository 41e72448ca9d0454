/* The T-step MeanFlow sampler with its log-likelihood (docs/algorithm.md §3). */
#include <string.h>

#include "internal.h"

int algo_sampler_init(algo_sampler *s, be_backend *be, const nn_layout *u, const nn_layout *d, size_t cap,
                      const mfpo_agent_config *cfg)
{
    size_t A = cfg->act_dim, T = cfg->sampling_steps;
    float host_times[2 * 64];
    memset(s, 0, sizeof *s);
    s->act_dim = A;
    s->steps = T;
    if (nn_cache_init(&s->u_cache, be, u, cap, 1, 0) != 0) goto fail;
    if (d && nn_cache_init(&s->d_cache, be, d, cap, 1, 0) != 0) goto fail;
    s->z = be->ops->alloc(be, cap * A * sizeof(float));
    s->eps = be->ops->alloc(be, cap * A * sizeof(float));
    s->times = be->ops->alloc(be, 2 * T * sizeof(float));
    if (!s->z || !s->eps || !s->times) goto fail;
    /* step k runs at t = (T - k)/T with h = 1/T (grid 1 -> 0) */
    for (size_t k = 0; k < T; k++) {
        host_times[2 * k] = (float)(T - k) / (float)T;
        host_times[2 * k + 1] = 1.0f / (float)T;
    }
    be->ops->upload(be, s->times, host_times, 2 * T * sizeof(float));
    return 0;
fail:
    algo_sampler_free(s, be);
    return -1;
}

void algo_sampler_free(algo_sampler *s, be_backend *be)
{
    nn_cache_free(&s->u_cache, be);
    nn_cache_free(&s->d_cache, be);
    if (s->z) be->ops->free(be, s->z);
    if (s->eps) be->ops->free(be, s->eps);
    if (s->times) be->ops->free(be, s->times);
    memset(s, 0, sizeof *s);
}

void algo_sampler_set_obs(algo_sampler *s, const float *obs, size_t lds, size_t repeat)
{
    s->obs = obs;
    s->lds = lds;
    s->group = repeat;
}

void algo_sampler_run(algo_sampler *s, be_backend *be, const nn_layout *ul, const float *u_params, const nn_layout *dl,
                      const float *d_params, size_t n, const uint64_t *key, uint64_t offset, float *actions, size_t ldo,
                      float *logp)
{
    size_t A = s->act_dim;
    int with_logp = d_params != NULL && logp != NULL;
    if (key) be->ops->rng_normal(be, s->eps, n * A, key, offset);
    algo_kernels_of(be)->sampler_init(be, n, A, s->eps, s->z, A, with_logp ? logp : NULL);
    for (size_t k = 0; k < s->steps; k++) {
        const float *t = s->times + 2 * k, *h = s->times + 2 * k + 1;
        /* u and d are both evaluated at z before it moves; input columns [z | s] */
        nn_forward_grouped(be, ul, u_params, &s->u_cache, n, s->z, A, 0, A, s->obs, s->lds, s->group, t, h, 1);
        if (with_logp)
            nn_forward_grouped(be, dl, d_params, &s->d_cache, n, s->z, A, 0, A, s->obs, s->lds, s->group, t, h, 1);
        algo_kernels_of(be)->sampler_step(be, n, A, 1.0f / (float)s->steps, s->u_cache.out, s->z, A,
                                          with_logp ? s->d_cache.out : NULL, with_logp ? logp : NULL);
    }
    algo_kernels_of(be)->clip_actions(be, n, A, s->z, A, actions, ldo);
}
