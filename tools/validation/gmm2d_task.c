/* This file maps fixed noise through mfpo_policy_transport() (include/mfpo/experimental.h). */
#define MFPO_EXPERIMENTAL
#include "gmm2d_task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static void centre(const gmm2d_spec *g, int i, double *cx, double *cy)
{
    double ang = 2.0 * PI * i / g->components;
    *cx = g->radius * cos(ang);
    *cy = g->radius * sin(ang);
}

double gmm2d_log_density(const gmm2d_spec *g, double x, double y)
{
    double lse_max = -INFINITY, terms[64], s = 0.0;
    int k = g->components;
    for (int i = 0; i < k; i++) {
        double cx, cy;
        centre(g, i, &cx, &cy);
        double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        terms[i] = -d2 / (2.0 * g->sigma * g->sigma);
        if (terms[i] > lse_max) lse_max = terms[i];
    }
    for (int i = 0; i < k; i++) s += exp(terms[i] - lse_max);
    return lse_max + log(s) - log((double)k) - log(2.0 * PI * g->sigma * g->sigma);
}

/* splitmix64: a small, well-known generator for the example's own data */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    return sqrt(-2.0 * log(uniform(s))) * cos(2.0 * PI * uniform(s));
}

mfpo_status gmm2d_fill_replay(const gmm2d_spec *g, mfpo_replay *replay, size_t n, uint64_t seed)
{
    uint64_t s = seed * 7919 + 1;
    float obs = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a[2] = { (float)(2.0 * uniform(&s) - 1.0), (float)(2.0 * uniform(&s) - 1.0) };
        float r = (float)gmm2d_log_density(g, a[0], a[1]);
        mfpo_status st = mfpo_replay_add(replay, &obs, a, r, &obs, 1);
        if (st != MFPO_OK) return st;
    }
    return MFPO_OK;
}

void gmm2d_config(mfpo_agent_config *c, size_t hidden, size_t depth)
{
    mfpo_agent_config_init(c, 1, 2);
    c->hidden_width = hidden;
    c->hidden_depth = depth;
    c->init_alpha = 1.0f;
    c->auto_alpha = 0;
    /* the reward is a log-density: about 1.4 at the modes, -60 in the box's far corners */
    c->v_min = -100.0f;
    c->v_max = 10.0f;
}

static void correlation_mae(const double *a, const double *b, size_t n, double *corr, double *mae)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0, ae = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
        sab += (a[i] - ma) * (b[i] - mb);
        ae += fabs(a[i] - b[i]);
    }
    *corr = (saa > 0 && sbb > 0) ? sab / sqrt(saa * sbb) : 0.0;
    *mae = ae / (double)n;
}

/* Mean |Q(s, a) - log p(a)| over a 101 x 101 grid of the box, where log p > -8 (the region that
 * carries the mixture's mass): how well the critic knows the reward the policy is shaped by. */
static mfpo_status critic_error(const gmm2d_spec *g, mfpo_agent *agent, double *mae)
{
    enum { G = 101 };
    float *obs = calloc(G * G, sizeof(float)), *act = malloc(2 * G * G * sizeof(float));
    float *q = malloc(G * G * sizeof(float));
    mfpo_status st = MFPO_ERR_OUT_OF_MEMORY;
    if (obs && act && q) {
        for (int i = 0; i < G; i++)
            for (int j = 0; j < G; j++) {
                act[2 * (i * G + j)] = -1.0f + 2.0f * i / (G - 1);
                act[2 * (i * G + j) + 1] = -1.0f + 2.0f * j / (G - 1);
            }
        st = mfpo_critic_q(mfpo_agent_critic(agent), obs, act, G * G, 0, q);
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t k = 0; st == MFPO_OK && k < (size_t)G * G; k++) {
            double lp = gmm2d_log_density(g, act[2 * k], act[2 * k + 1]);
            if (lp > -8.0) {
                sum += fabs(q[k] - lp);
                cnt++;
            }
        }
        *mae = cnt ? sum / (double)cnt : 0.0;
    }
    free(obs);
    free(act);
    free(q);
    return st;
}

mfpo_status gmm2d_evaluate(const gmm2d_spec *g, mfpo_agent *agent, size_t n, uint64_t seed, gmm2d_logp_mode mode,
                           gmm2d_metrics *m, float *xy_logp)
{
    mfpo_status st =
        gmm2d_measure(g, mfpo_agent_policy(agent), mfpo_agent_divergence(agent), n, seed, mode, m, xy_logp);
    return st == MFPO_OK ? critic_error(g, agent, &m->critic_mae) : st;
}

mfpo_status gmm2d_measure(const gmm2d_spec *g, mfpo_policy *pol, const mfpo_divergence *div, size_t n, uint64_t seed,
                          gmm2d_logp_mode mode, gmm2d_metrics *m, float *xy_logp)
{
    const float step = 1e-3f; /* central differences of the noise -> action map, for (d) */
    size_t rows = 5 * n;      /* each sample and its four displaced copies */
    float *obs = calloc(rows, sizeof(float)), *noise = malloc(rows * 2 * sizeof(float));
    float *act = malloc(rows * 2 * sizeof(float)), *logp = malloc(rows * sizeof(float));
    double *lib = malloc(n * sizeof(double)), *exact = malloc(n * sizeof(double));
    double *lib_d = malloc(n * sizeof(double)), *sampler = malloc(n * sizeof(double));
    mfpo_status st = MFPO_ERR_OUT_OF_MEMORY;
    if (!obs || !noise || !act || !logp || !lib || !exact || !lib_d || !sampler) goto done;

    uint64_t s = seed * 104729 + 3;
    for (size_t i = 0; i < n; i++) {
        float e0 = (float)normal(&s), e1 = (float)normal(&s);
        float *b = noise + 10 * i;
        for (int k = 0; k < 5; k++) {
            b[2 * k] = e0;
            b[2 * k + 1] = e1;
        }
        b[2] += step; /* +e0 */
        b[4] -= step; /* -e0 */
        b[7] += step; /* +e1 */
        b[9] -= step; /* -e1 */
    }
    st = mfpo_policy_transport(pol, div, obs, noise, rows, act, logp);
    if (st != MFPO_OK) goto done;

    int k = g->components;
    size_t within[64] = { 0 }, far = 0, nd = 0;
    double r3 = 3.0 * g->sigma;
    for (size_t i = 0; i < n; i++) {
        const float *a = act + 10 * i, *e = noise + 10 * i;
        double x = a[0], y = a[1], lognorm = -0.5 * ((double)e[0] * e[0] + (double)e[1] * e[1]) - log(2.0 * PI);
        double lp = logp[5 * i];
        if (mode == GMM2D_LOGP_NO_DIVERGENCE) lp = lognorm;
        if (mode == GMM2D_LOGP_FLIPPED_DIVERGENCE) lp = 2.0 * lognorm - lp;
        int is_far = 1;
        for (int c = 0; c < k; c++) {
            double cx, cy;
            centre(g, c, &cx, &cy);
            if (hypot(x - cx, y - cy) < r3) {
                within[c]++;
                is_far = 0;
            }
        }
        far += (size_t)is_far;
        lib[i] = lp;
        exact[i] = gmm2d_log_density(g, x, y);
        if (xy_logp) {
            xy_logp[3 * i] = a[0];
            xy_logp[3 * i + 1] = a[1];
            xy_logp[3 * i + 2] = (float)lp;
        }
        /* (d): exact density of the 2-step map, log N(eps) - log|det da/deps|, away from the clip */
        int clipped = 0;
        for (int j = 0; j < 10; j++) clipped |= fabsf(a[j]) >= 0.999f;
        if (clipped) continue;
        double j00 = ((double)a[2] - a[4]) / (2.0 * step), j10 = ((double)a[3] - a[5]) / (2.0 * step);
        double j01 = ((double)a[6] - a[8]) / (2.0 * step), j11 = ((double)a[7] - a[9]) / (2.0 * step);
        double det = fabs(j00 * j11 - j01 * j10);
        if (!(det > 0.0)) continue;
        lib_d[nd] = lp;
        sampler[nd] = lognorm - log(det);
        nd++;
    }
    m->centre_mass_min = 1.0;
    m->centre_mass_max = 0.0;
    for (int c = 0; c < k; c++) {
        double share = (double)within[c] / (double)n;
        if (share < m->centre_mass_min) m->centre_mass_min = share;
        if (share > m->centre_mass_max) m->centre_mass_max = share;
    }
    m->far = (double)far / (double)n;
    correlation_mae(lib, exact, n, &m->logp_corr, &m->logp_mae);
    m->sampler_points = nd;
    if (nd > 1)
        correlation_mae(lib_d, sampler, nd, &m->sampler_corr, &m->sampler_mae);
    else
        m->sampler_corr = 0.0, m->sampler_mae = INFINITY;
    m->critic_mae = NAN; /* set by gmm2d_evaluate, which has the critics */
done:
    free(obs);
    free(noise);
    free(act);
    free(logp);
    free(lib);
    free(exact);
    free(lib_d);
    free(sampler);
    return st;
}
