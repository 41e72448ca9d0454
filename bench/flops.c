#include "flops.h"

/* Notation: B batch, S obs, A act, H hidden width, L depth, F Fourier features, D time-embedding
 * width, N atoms, T sampling steps, K1/K2 proposals, P Hutchinson probes. */
typedef struct shape {
    double H, L, F, D;
} shape;

static double gemm(double m, double n, double k)
{
    return 2.0 * m * n * k;
}

/* nn_forward_grouped on n rows with m time rows (timed nets), output `out`: `in` input columns per
 * row, plus `shared` columns (the state) that come once per group of n / groups rows, so that
 * their share of the first layer is computed for `groups` rows only. A plain nn_forward is
 * shared = 0. */
static double net_forward(const shape *s, double in, double shared, double groups, double out, int timed, double n,
                          double m)
{
    double f = gemm(n, s->H, in) + gemm(groups, s->H, shared) + (s->L - 1.0) * gemm(n, s->H, s->H) + gemm(n, out, s->H);
    /* two embedders (2F -> D -> D), then the condition's projection D -> H */
    if (timed) f += 2.0 * (gemm(m, s->D, 2.0 * s->F) + gemm(m, s->D, s->D)) + gemm(m, s->H, s->D);
    return f;
}

/* nn_jvp: input tangent on the first `dot` columns; `time_tangents` embedders with a non-zero tangent. */
static double net_jvp(const shape *s, double dot, double out, int timed, int time_tangents, double n, double m)
{
    double f = gemm(n, s->H, dot) + (s->L - 1.0) * gemm(n, s->H, s->H) + gemm(n, out, s->H);
    if (timed && time_tangents > 0)
        f += (double)time_tangents * (gemm(m, s->D, 2.0 * s->F) + gemm(m, s->D, s->D)) + gemm(m, s->H, s->D);
    return f;
}

/* nn_backward with parameter gradients only (g_x, g_t, g_h NULL, as the update calls it). */
static double net_backward(const shape *s, double in, double out, int timed, double n, double m)
{
    double f = gemm(s->H, out, n) + gemm(n, s->H, out);              /* head: weights, input */
    f += (s->L - 1.0) * (gemm(s->H, s->H, n) + gemm(n, s->H, s->H)); /* hidden 1..L-1 */
    f += gemm(in, s->H, n);                                          /* layer 0 weights */
    if (timed)
        f += gemm(s->D, s->H, m) + gemm(m, s->D, s->H) /* condition projection: weights, g_cond */
             + 2.0 * (gemm(s->D, s->D, m) + gemm(m, s->D, s->D) + gemm(2.0 * s->F, s->D, m) +
                      gemm(m, 2.0 * s->F, s->D)); /* each embedder: 2 weights, 2 inputs */
    return f;
}

/* The update as lib/algo/update.c runs it. With `grouped` 0, every row's first layer is computed in
 * full (the dense count); with 1, as the code does since the grouped first layer: in the policy
 * proposal's sampler and in the scoring, a state's share once per state, not once per candidate. */
static void count(const mfpo_agent_config *c, int grouped, bench_flops *o)
{
    shape s = { (double)c->hidden_width, (double)c->hidden_depth, (double)c->fourier_features,
                (double)c->time_embed_dim };
    double B = (double)c->batch_size, S = (double)c->obs_dim, A = (double)c->act_dim, N = (double)c->atoms;
    double T = (double)c->sampling_steps, K1 = (double)c->policy_samples, K2 = (double)c->gaussian_samples;
    double P = (double)c->hutchinson_probes;
    double fin = A + S; /* u and d read [z | s]; the critics [s | a] */
    double g1 = grouped ? K1 : 1.0, g2 = grouped ? K2 : 1.0;

    /* §3 sampler with likelihood on n rows, states repeated g times: per step one u and one d
     * forward on one time row; input columns z per row, s per state */
#define SAMPLER(n, g)                                                                                                  \
    (T * (net_forward(&s, A, S, (n) / (g), A, 1, (n), 1.0) + net_forward(&s, A, S, (n) / (g), 1.0, 1, (n), 1.0)))
    /* one critic on n (s, a) rows, states repeated g times */
#define CRITIC(n, g) net_forward(&s, A, S, (n) / (g), N, 0, (n), 1.0)

    /* (a): (a', logp') at s'; both targets at (s', a'); both online critics forward + backward */
    o->critic = SAMPLER(B, 1.0) + 2.0 * CRITIC(B, 1.0) +
                2.0 * (net_forward(&s, S + A, 0.0, 0.0, N, 0, B, 1.0) + net_backward(&s, S + A, N, 0, B, 1.0));
    /* (b): K1 samples per state with likelihood; both online critics on the B K1 policy and the
     * B K2 Gaussian candidates; u forward, JVP along (v_hat, 1, 1) over (z, t, h), backward; B
     * time rows */
    o->dominant = 2.0 * (CRITIC(B * K1, g1) + CRITIC(B * K2, g2));
    o->actor = SAMPLER(B * K1, g1) + o->dominant + net_forward(&s, fin, 0.0, 0.0, A, 1, B, B) +
               net_jvp(&s, A, A, 1, 2, B, B) + net_backward(&s, fin, A, 1, B, B);
    /* (c): v = u(., h = 0) and P probe JVPs (z only); d forward, JVP along (v, 1, 1), backward */
    o->divergence = net_forward(&s, fin, 0.0, 0.0, A, 1, B, B) + P * net_jvp(&s, A, A, 1, 0, B, B) +
                    net_forward(&s, fin, 0.0, 0.0, 1.0, 1, B, B) + net_jvp(&s, A, 1.0, 1, 2, B, B) +
                    net_backward(&s, fin, 1.0, 1, B, B);
    o->temperature = 0.0;
#undef SAMPLER
#undef CRITIC
    double delay = c->actor_delay ? (double)c->actor_delay : 1.0;
    o->total = o->critic + (o->actor + o->divergence + o->temperature) / delay;
}

void bench_update_flops(const mfpo_agent_config *c, bench_flops *out)
{
    bench_flops dense;
    count(c, 0, &dense);
    count(c, 1, out);
    out->dense_total = dense.total;
}
