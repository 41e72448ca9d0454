/*
 * Per-row kernels of the MFPO update (docs/algorithm.md §3–§4), shared by the host implementation
 * (lib/algo/kernels_host.c) and the CUDA module (cuda/kernels_mfpo.cu).
 * Each function computes one row (one state) and touches nothing outside that row's slices, so a
 * backend may run rows in any order or in parallel.
 */
#ifndef MFPO_ALGO_KERNELS_MFPO_H
#define MFPO_ALGO_KERNELS_MFPO_H

#include "../backend/kernels_common.h"

/* log N(eps; 0, I_a) */
MFPO_HD float algo_log_std_normal(size_t a, const float *eps)
{
    float s = 0.0f;
    size_t j;
    for (j = 0; j < a; j++) s += eps[j] * eps[j];
    return -0.5f * s - 0.5f * (float)a * 1.8378770664093453f; /* log(2 pi) */
}

/* Logit-normal (t, r) pair of one row (§4b): t = max, r = min of sigmoid(mean + std n). */
MFPO_HD void algo_flow_times_row(const float *normals, float mean, float std, int flow_row, float *t, float *r,
                                 float *h)
{
    float x0 = be_sigmoid(mean + std * normals[0]);
    float x1 = be_sigmoid(mean + std * normals[1]);
    float tt = x0 > x1 ? x0 : x1;
    float rr = flow_row ? tt : (x0 > x1 ? x1 : x0);
    *t = tt;
    *r = rr;
    *h = tt - rr;
}

/* One Gaussian-proposal coordinate (§4b): n truncated so that a = (z_t - t n)/(1 - t) is in [-1, 1]. */
MFPO_HD float algo_gaussian_candidate(float z_t, float t, float u, float *noise)
{
    double tg = t > MFPO_T_EPS ? t : MFPO_T_EPS;
    double omt = (1.0f - t) > MFPO_T_EPS ? (double)(1.0f - t) : (double)MFPO_T_EPS;
    double lo = ((double)z_t - (1.0 - (double)t)) / tg;
    double hi = ((double)z_t + (1.0 - (double)t)) / tg;
    float n = (float)be_truncated_normal(lo, hi, (double)u);
    *noise = n;
    return be_clampf((float)(((double)z_t - (double)t * n) / omt), -1.0f, 1.0f);
}

/* Softmax statistics of a logit row: its max and the sum of exp(l - max), in lanes (fixed order,
 * vectorizable). */
MFPO_HD void algo_softmax_stats(size_t n, const float *l, float *mx, float *sum)
{
    float pm[MFPO_LANES], ps[MFPO_LANES] = { 0 }, m = l[0], s = 0.0f;
    size_t j = 0;
    for (int k = 0; k < MFPO_LANES; k++) pm[k] = l[0];
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++) pm[k] = l[j + k] > pm[k] ? l[j + k] : pm[k];
    for (size_t i = j; i < n; i++) m = l[i] > m ? l[i] : m;
    for (int k = 0; k < MFPO_LANES; k++) m = pm[k] > m ? pm[k] : m;
    j = 0;
    for (; j + MFPO_LANES <= n; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++) ps[k] += be_expf(l[j + k] - m);
    for (; j < n; j++) s += be_expf(l[j] - m);
    *mx = m;
    *sum = be_lane_total(ps, s);
}

MFPO_HD float algo_atom(size_t j, size_t atoms, float v_min, float v_max)
{
    return v_min + (v_max - v_min) * (float)j / (float)(atoms - 1);
}

MFPO_HD float algo_expected_q_row(size_t atoms, float v_min, float v_max, const float *l)
{
    float mx, sum, p[MFPO_LANES] = { 0 }, tail = 0.0f;
    size_t j = 0;
    algo_softmax_stats(atoms, l, &mx, &sum);
    for (; j + MFPO_LANES <= atoms; j += MFPO_LANES)
        for (int k = 0; k < MFPO_LANES; k++)
            p[k] += be_expf(l[j + k] - mx) * algo_atom(j + (size_t)k, atoms, v_min, v_max);
    for (; j < atoms; j++) tail += be_expf(l[j] - mx) * algo_atom(j, atoms, v_min, v_max);
    return be_lane_total(p, tail) / sum;
}

/* Adds weight * (the C51 projection of softmax(l) placed at the shifted support y_j) to out (§4a). */
MFPO_HD void algo_c51_project_add(size_t atoms, float v_min, float v_max, const float *l, float reward, float mask,
                                  float gamma, float alpha_logp, float weight, float *out)
{
    float mx, sum, dz = (v_max - v_min) / (float)(atoms - 1);
    size_t j;
    algo_softmax_stats(atoms, l, &mx, &sum);
    for (j = 0; j < atoms; j++) {
        float p = weight * be_expf(l[j] - mx) / sum;
        float y = be_clampf(reward + gamma * mask * (algo_atom(j, atoms, v_min, v_max) - alpha_logp), v_min, v_max);
        float b = (y - v_min) / dz;
        float fl = floorf(b), ce = ceilf(b);
        long lo = (long)fl, hi = (long)ce;
        if (lo < 0) lo = 0;
        if (hi < 0) hi = 0;
        if (lo > (long)atoms - 1) lo = (long)atoms - 1;
        if (hi > (long)atoms - 1) hi = (long)atoms - 1;
        if (fl == ce) {
            out[lo] += p;
        } else {
            out[lo] += p * (ce - b);
            out[hi] += p * (b - fl);
        }
    }
}

/* Mean over the fixed atoms of a distribution. */
MFPO_HD float algo_dist_mean(size_t atoms, float v_min, float v_max, const float *p)
{
    float m = 0.0f;
    size_t j;
    for (j = 0; j < atoms; j++) m += p[j] * algo_atom(j, atoms, v_min, v_max);
    return m;
}

/* The §4a target row: both projections, then the one with the smaller mean (clipped) or their
 * average. `scratch` holds atoms floats. */
MFPO_HD void algo_c51_target_row(size_t atoms, float v_min, float v_max, const float *l1, const float *l2, float reward,
                                 float mask, float next_logp, float alpha, float gamma, int clipped, float *target,
                                 float *scratch)
{
    size_t j;
    float al = alpha * next_logp;
    for (j = 0; j < atoms; j++) target[j] = scratch[j] = 0.0f;
    if (clipped) {
        algo_c51_project_add(atoms, v_min, v_max, l1, reward, mask, gamma, al, 1.0f, target);
        algo_c51_project_add(atoms, v_min, v_max, l2, reward, mask, gamma, al, 1.0f, scratch);
        if (algo_dist_mean(atoms, v_min, v_max, scratch) < algo_dist_mean(atoms, v_min, v_max, target))
            for (j = 0; j < atoms; j++) target[j] = scratch[j];
    } else {
        algo_c51_project_add(atoms, v_min, v_max, l1, reward, mask, gamma, al, 0.5f, target);
        algo_c51_project_add(atoms, v_min, v_max, l2, reward, mask, gamma, al, 0.5f, target);
    }
}

/* Cross-entropy row: returns -sum target log_softmax(l); grad = (softmax(l) - target) * gscale. */
MFPO_HD float algo_xent_row(size_t atoms, const float *l, const float *target, float gscale, float *grad)
{
    float mx, sum, lse, loss = 0.0f;
    size_t j;
    algo_softmax_stats(atoms, l, &mx, &sum);
    lse = mx + logf(sum);
    for (j = 0; j < atoms; j++) {
        loss -= target[j] * (l[j] - lse);
        grad[j] = (be_expf(l[j] - lse) - target[j]) * gscale;
    }
    return loss;
}

/* Softmax of a group of log-weights in place into w; returns ESS = 1 / sum w^2. */
MFPO_HD float algo_normalize_group(size_t k, const float *log_w, float *w)
{
    float mx, sum, s2 = 0.0f;
    size_t j;
    algo_softmax_stats(k, log_w, &mx, &sum);
    for (j = 0; j < k; j++) {
        w[j] = be_expf(log_w[j] - mx) / sum;
        s2 += w[j] * w[j];
    }
    return 1.0f / s2;
}

/*
 * SNIS row of §4b. q_pol: k1 scores, q_gauss: k2 scores; pol_a: k1 x a; pol_logp: k1; gauss_a: k2 x a.
 * Writes log_w, w (k1 + k2, policy first), the two ESS and v_hat (a).
 */
MFPO_HD void algo_snis_row(size_t k1, size_t k2, size_t a, const float *q_pol, const float *q_gauss, const float *pol_a,
                           const float *pol_logp, const float *gauss_a, const float *z_t, float t, float alpha,
                           float *log_w, float *w, float *ess_pol, float *ess_gauss, float *v_hat)
{
    float tg = t > MFPO_T_EPS ? t : MFPO_T_EPS;
    float inv_alpha = 1.0f / alpha;
    float e1, e2;
    size_t j, c;
    for (j = 0; j < k1; j++) {
        float d2 = 0.0f;
        for (c = 0; c < a; c++) {
            float d = z_t[c] - (1.0f - t) * pol_a[j * a + c];
            d2 += d * d;
        }
        log_w[j] = q_pol[j] * inv_alpha - d2 / (2.0f * tg * tg) - pol_logp[j];
    }
    for (j = 0; j < k2; j++) log_w[k1 + j] = q_gauss[j] * inv_alpha;
    e1 = algo_normalize_group(k1, log_w, w);
    e2 = algo_normalize_group(k2, log_w + k1, w + k1);
    *ess_pol = e1;
    *ess_gauss = e2;
    for (c = 0; c < a; c++) {
        float v1 = 0.0f, v2 = 0.0f;
        for (j = 0; j < k1; j++) v1 += w[j] * (z_t[c] - pol_a[j * a + c]);
        for (j = 0; j < k2; j++) v2 += w[k1 + j] * (z_t[c] - gauss_a[j * a + c]);
        v_hat[c] = (e1 * (v1 / tg) + e2 * (v2 / tg)) / (e1 + e2);
    }
}

#endif
