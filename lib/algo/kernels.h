/*
 * The MFPO row kernels (docs/algorithm.md §3–§4) as a table owned by the algorithm. Every buffer argument is
 * backend memory of `be`. Three implementations:
 *
 *   - a backend's own fast version, offered through its `extension` op under
 *     ALGO_KERNELS_EXTENSION (the CUDA module: cuda/kernels_mfpo.cu);
 *   - the host version (lib/algo/kernels_host.c), which runs the row loops of kernels_mfpo.h
 *     directly on buffers that are host memory (be->host_memory: the CPU backend);
 *   - the generic version, for any other backend: it downloads the inputs, runs the host row
 *     loop and uploads the outputs, so a new backend runs MFPO before it ports a single kernel.
 *
 * algo_kernels_of(be) picks one. The math of every row lives once, in kernels_mfpo.h.
 */
#ifndef MFPO_ALGO_KERNELS_H
#define MFPO_ALGO_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "../backend/backend.h"

/* The name a backend's `extension` op answers with its own table. The table's layout is this
 * struct's; the suffix changes with any change of it. */
#define ALGO_KERNELS_EXTENSION "mfpo_kernels_v1"

/* Which of the two candidate distributions c51_target keeps per row (docs/algorithm.md §4a). */
enum { ALGO_TWIN_MIN_MEAN = 1, ALGO_TWIN_AVERAGE = 0 };

typedef struct algo_kernels {
    /* z[i, :a] = eps[i]; logp[i] = log N(eps_i; 0, I). */
    void (*sampler_init)(be_backend *be, size_t n, size_t a, const float *eps, float *z, size_t ldz, float *logp);
    /* z -= h u; logp += h d (d, logp may be NULL). */
    void (*sampler_step)(be_backend *be, size_t n, size_t a, float h, const float *u, float *z, size_t ldz,
                         const float *d, float *logp);
    /* out[i, :a] = clip(z[i, :a], -1, 1). */
    void (*clip_actions)(be_backend *be, size_t n, size_t a, const float *z, size_t ldz, float *out, size_t ldo);
    /* (t, r) from two normals per row (logit-normal, t = max, r = min); rows < flow_rows get r = t. */
    void (*flow_times)(be_backend *be, size_t n, const float *normals, float mean, float std, size_t flow_rows,
                       float *t, float *r, float *h);
    /* z_t = (1 - t) a + t eps; a rows read with stride lda. */
    void (*noisy_point)(be_backend *be, size_t n, size_t a, const float *act, size_t lda, const float *t,
                        const float *eps, float *z_t);
    /* K Gaussian-proposal actions per row from uniforms (truncated normal, docs/algorithm.md §4b). */
    void (*gaussian_proposal)(be_backend *be, size_t n, size_t k, size_t a, const float *z_t, const float *t,
                              const float *uniforms, float *noise, float *out, size_t ldo);
    /* q[i] = sum_k softmax(logits_i)_k c_k over atoms linspace(v_min, v_max, atoms). */
    void (*expected_q)(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits, float *q);
    /* out[i] = min(q1, q2) (clipped) or (q1 + q2)/2. */
    void (*combine_q)(be_backend *be, size_t n, const float *q1, const float *q2, int clipped, float *out);
    /* C51 target distribution of §4a from the two target critics' logits at (s', a'). */
    void (*c51_target)(be_backend *be, size_t n, size_t atoms, float v_min, float v_max, const float *logits1,
                       const float *logits2, const float *reward, const float *mask, const float *next_logp,
                       const float *log_alpha, float gamma, int clipped, float *target);
    /* Cross-entropy of log_softmax(logits) against target: grad = (softmax - target)/n; *loss = mean. */
    void (*softmax_xent)(be_backend *be, size_t n, size_t atoms, const float *logits, const float *target, float *grad,
                         float *loss);
    /* SNIS over both proposals (§4b). Per row i: scores q_pol (k1) and q_gauss (k2); candidates pol_a
     * (k1 x a) with log-likelihoods pol_logp (k1) and gauss_a (k2 x a). Writes the log-weights and
     * weights (n x (k1 + k2), policy first), each proposal's ESS and the combined v_hat (n x a). */
    void (*snis)(be_backend *be, size_t n, size_t k1, size_t k2, size_t a, const float *q_pol, const float *q_gauss,
                 const float *pol_a, const float *pol_logp, const float *gauss_a, const float *z_t, const float *t,
                 const float *log_alpha, float *log_w, float *w, float *ess_pol, float *ess_gauss, float *v_hat);
    /* MeanFlow regression: tgt = vel - clip(h, 0, 1) * dot; grad = 2 (pred - tgt)/(n w); *loss = mean sq. */
    void (*meanflow_loss)(be_backend *be, size_t n, size_t w, const float *pred, const float *dot, const float *vel,
                          const float *h, float *tgt, float *grad, float *loss);
    /* acc[i] (+)= scale * <e_i, jv_i> (Hutchinson). */
    void (*row_dot)(be_backend *be, size_t n, size_t a, const float *e, const float *jv, float scale, float *acc,
                    int accumulate);
    /* *out = mean(x[0..n)). */
    void (*mean)(be_backend *be, size_t n, const float *x, float *out);
    /* Temperature (§4d): H = -mean_logp; *loss = alpha (H - target); *grad = d loss / d log alpha. */
    void (*temperature_grad)(be_backend *be, const float *mean_logp, const float *log_alpha, float target_entropy,
                             float *loss, float *grad);
    /* out[i, :a] = cand[i * k + argmax_j q[i * k + j], :a]. */
    void (*select_best)(be_backend *be, size_t n, size_t k, size_t a, const float *q, const float *cand, size_t ldc,
                        float *out);

} algo_kernels;

/* The host row loops (buffers must be host memory) and the generic download/loop/upload version. */
extern const algo_kernels algo_kernels_host;
extern const algo_kernels algo_kernels_generic;

/* The table for `be`: its own (extension), else the host one when its memory is host memory, else
 * the generic one. */
static inline const algo_kernels *algo_kernels_of(be_backend *be)
{
    if (be->host_memory) return &algo_kernels_host;
    const void *own = be->ops->extension ? be->ops->extension(be, ALGO_KERNELS_EXTENSION) : NULL;
    return own ? (const algo_kernels *)own : &algo_kernels_generic;
}

#endif
