/*
 * CPU/CUDA parity of whole MFPO updates.
 *
 *   cuda_parity [--self-check] [--updates N] [--verbose]
 *
 * Default: a CPU and a CUDA context with the same seed and configuration (obs 17, act 6, hidden
 * 64, batch 64, every other setting the paper's: K1 16, K2 32, 101 atoms, 2 probes), identical
 * replay buffers, N = 100 updates on each. Every update's statistics (losses, alpha, entropy,
 * mean Q, ESS) are compared, then the whole trainable state at the end (u, d, both critics and
 * their targets, log alpha, all Adam moments). Without a usable CUDA device it prints
 * "skipped: no CUDA device (<reason>)" and exits 77 (meson: skipped).
 *
 * --self-check: the same comparison between two CPU contexts, the second one's parameters moved by
 * one ulp each (in a random direction) before every update: rounding-level differences injected
 * all along, like the CUDA/CPU ones. It runs everywhere and shows how much such differences grow
 * over N updates; the tolerances below are set from it (docs/cuda.md, "Parity").
 *
 * Why the runs differ at all: cuBLAS and OpenBLAS sum the dot products of a gemm in different
 * orders (relative differences ~1e-7 per gemm), and a few libm calls (expf in the logit-normal
 * times, logf in the cross-entropy, erfc/log in the truncated normal) may differ by an ulp. Every
 * other kernel computes the CPU's formulas in the CPU's order (lib/backend/kernels_*.h), so
 * these are the only sources. Adam then amplifies them where a gradient component is near zero
 * (its step lr * m / sqrt(v) is O(lr) whatever the gradient's size), so parameter differences are
 * bounded by a few lr per update in the worst element but stay ~1e-6 relative in norm.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#include "algo/update.h"

/* Tolerances (see the header comment and docs/cuda.md). The self-check (one-ulp noise on every
 * parameter before each of 100 updates, obs 17 / act 6 / hidden 64 / batch 64) measured: statistics
 * <= 7e-4 relative (the ESS; the losses <= 2e-4), parameters <= 3e-6 relative in norm and 4e-6 in
 * the largest element, Adam first moments <= 4e-4 and second moments <= 8e-5 relative in norm.
 * The limits below leave a factor of about 30 over those figures for the other rounding the CUDA
 * run sees (every gemm and every libm call, not only the parameters), and grow for statistics from
 * the first update (one pass apart) to the last:
 *   statistic of update k: |x - y| <= STAT_ATOL + rtol(k) max(|x|, |y|), rtol from STAT_RTOL0 to
 *   STAT_RTOL_END linearly;
 *   each parameter block: ||x - y|| / ||x|| <= STATE_NORM_RTOL, and max |x - y| <= STATE_MAX_ABS
 *   (three learning rates: one Adam step turned around);
 *   Adam moments, by norm only: first moments ADAM_M_RTOL, second moments ADAM_V_RTOL. */
#define STAT_RTOL0 5e-4
#define STAT_RTOL_END 2e-2
#define STAT_ATOL 1e-6
#define STATE_NORM_RTOL 1e-4
#define STATE_MAX_ABS 1e-3
#define ADAM_M_RTOL 1e-2
#define ADAM_V_RTOL 3e-3

#define OBS 17
#define ACT 6

typedef struct run {
    mfpo_context *ctx;
    mfpo_replay *rb;
    mfpo_agent *ag;
} run;

static unsigned long long rng_state;

static float uniform(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (float)((rng_state >> 11) * (1.0 / 9007199254740992.0));
}

static void die(const char *what, mfpo_context *ctx)
{
    fprintf(stderr, "cuda_parity: %s failed: %s\n", what, mfpo_last_error(ctx));
    exit(1);
}

static void config(mfpo_agent_config *c)
{
    mfpo_agent_config_init(c, OBS, ACT);
    c->hidden_width = 64;
    c->batch_size = 64;
}

/* Same seed, same transitions (from a fixed host generator) for every run. */
static int open_run(run *r, mfpo_backend_kind kind, char *why, size_t why_size)
{
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = kind;
    o.seed = 20240607;
    o.threads = 1;
    memset(r, 0, sizeof *r);
    if (mfpo_context_create(&o, &r->ctx) != MFPO_OK) {
        snprintf(why, why_size, "%s", mfpo_last_error(NULL));
        return -1;
    }
    mfpo_agent_config c;
    config(&c);
    if (mfpo_agent_create(r->ctx, &c, &r->ag) != MFPO_OK) die("mfpo_agent_create", r->ctx);
    const size_t n = 2048;
    if (mfpo_replay_create(r->ctx, OBS, ACT, 4096, &r->rb) != MFPO_OK) die("mfpo_replay_create", r->ctx);
    static float obs[2048 * OBS], act[2048 * ACT], rew[2048], next[2048 * OBS];
    static int term[2048];
    rng_state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < OBS; j++) obs[i * OBS + j] = uniform(-2.0f, 2.0f);
        for (int j = 0; j < OBS; j++) next[i * OBS + j] = obs[i * OBS + j] + uniform(-0.1f, 0.1f);
        for (int j = 0; j < ACT; j++) act[i * ACT + j] = uniform(-1.0f, 1.0f);
        rew[i] = uniform(-1.0f, 3.0f);
        term[i] = i % 97 == 96;
    }
    if (mfpo_replay_add_batch(r->rb, n, obs, act, rew, next, term) != MFPO_OK) die("mfpo_replay_add_batch", r->ctx);
    return 0;
}

static void close_run(run *r)
{
    mfpo_agent_destroy(r->ag);
    mfpo_replay_destroy(r->rb);
    mfpo_context_destroy(r->ctx);
}

static float *download_state(run *r)
{
    mfpo_agent *ag = r->ag;
    be_backend *be = ag->ctx->be;
    float *s = malloc(ag->off.total * sizeof(float));
    if (!s) exit(1);
    be->ops->download(be, s, ag->state, ag->off.total * sizeof(float));
    return s;
}

/* Moves every parameter of the agent by one ulp in a pseudo-random direction. */
static void nudge(run *r, unsigned long long seed)
{
    mfpo_agent *ag = r->ag;
    be_backend *be = ag->ctx->be;
    float *s = download_state(r);
    rng_state = 12345 + 7919 * seed;
    for (size_t i = 0; i < ag->off.m_u; i++)
        if (s[i] != 0.0f) s[i] = nextafterf(s[i], uniform(0.0f, 1.0f) < 0.5f ? -INFINITY : INFINITY);
    be->ops->upload(be, ag->state, s, ag->off.total * sizeof(float));
    free(s);
}

typedef struct stat_field {
    const char *name;
    size_t offset;
} stat_field;

static const stat_field fields[] = {
    { "critic_loss", offsetof(mfpo_update_stats, critic_loss) },
    { "actor_loss", offsetof(mfpo_update_stats, actor_loss) },
    { "divergence_loss", offsetof(mfpo_update_stats, divergence_loss) },
    { "alpha", offsetof(mfpo_update_stats, alpha) },
    { "entropy", offsetof(mfpo_update_stats, entropy) },
    { "mean_q", offsetof(mfpo_update_stats, mean_q) },
    { "ess_policy", offsetof(mfpo_update_stats, ess_policy) },
    { "ess_gaussian", offsetof(mfpo_update_stats, ess_gaussian) },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static float field(const mfpo_update_stats *s, size_t k)
{
    float v;
    memcpy(&v, (const char *)s + fields[k].offset, sizeof v);
    return v;
}

int main(int argc, char **argv)
{
    int self_check = 0, verbose = 0;
    long updates = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--self-check"))
            self_check = 1;
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[i], "--updates") && i + 1 < argc)
            updates = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--self-check] [--updates N] [--verbose]\n", argv[0]);
            return 2;
        }
    }
    if (updates < 1) updates = 1;
    unsetenv("MFPO_BACKEND"); /* the kinds below are meant literally */

    run ref, dut;
    char why[512] = "";
    if (open_run(&ref, MFPO_BACKEND_CPU, why, sizeof why) != 0) {
        fprintf(stderr, "cuda_parity: CPU context: %s\n", why);
        return 1;
    }
    if (open_run(&dut, self_check ? MFPO_BACKEND_CPU : MFPO_BACKEND_CUDA, why, sizeof why) != 0) {
        printf("skipped: no CUDA device (%s)\n", why);
        close_run(&ref);
        return 77;
    }
    printf("reference: %s\ncompared:  %s%s\n", mfpo_context_device_name(ref.ctx), mfpo_context_device_name(dut.ctx),
           self_check ? " (parameters moved by one ulp before every update)" : "");
    printf("config: obs %d act %d hidden 64 batch 64 K1 16 K2 32 atoms 101; %ld updates\n", OBS, ACT, updates);
    if (!self_check) {
        const char *g = getenv("MFPO_CUDA_GRAPHS");
        printf("CUDA graphs: %s\n",
               g && !strcmp(g, "0") ? "off (MFPO_CUDA_GRAPHS=0)" : "on (update 1 direct, 2 recorded, then replays)");
    }

    int failures = 0;
    double worst_stat[NFIELDS] = { 0 };
    long worst_at[NFIELDS] = { 0 };
    for (long u = 0; u < updates; u++) {
        mfpo_update_stats a, b;
        a.struct_size = b.struct_size = sizeof a;
        if (mfpo_update(ref.ag, ref.rb, &a) != MFPO_OK) die("mfpo_update (reference)", ref.ctx);
        if (self_check) nudge(&dut, (unsigned long long)u); /* rounding-level noise at every update */
        if (mfpo_update(dut.ag, dut.rb, &b) != MFPO_OK) die("mfpo_update (compared)", dut.ctx);
        double rtol = STAT_RTOL0 + (STAT_RTOL_END - STAT_RTOL0) * (double)u / (double)(updates > 1 ? updates - 1 : 1);
        for (size_t k = 0; k < NFIELDS; k++) {
            double x = field(&a, k), y = field(&b, k), d = fabs(x - y);
            double scale = fmax(fabs(x), fabs(y));
            double rel = d / fmax(scale, 1e-30);
            if (rel > worst_stat[k] && d > STAT_ATOL * 1e-3) {
                worst_stat[k] = rel;
                worst_at[k] = u + 1;
            }
            if (!(d <= STAT_ATOL + rtol * scale)) {
                if (failures < 20)
                    printf("FAIL update %ld %s: cpu %.9g vs %.9g (|diff| %.3g > %.3g)\n", u + 1, fields[k].name, x, y,
                           d, STAT_ATOL + rtol * scale);
                failures++;
            }
        }
        if (verbose)
            printf("update %3ld critic %.7g/%.7g actor %.7g/%.7g div %.7g/%.7g alpha %.7g/%.7g\n", u + 1,
                   (double)a.critic_loss, (double)b.critic_loss, (double)a.actor_loss, (double)b.actor_loss,
                   (double)a.divergence_loss, (double)b.divergence_loss, (double)a.alpha, (double)b.alpha);
    }
    printf("\n%-16s %12s %8s\n", "statistic", "max rel diff", "update");
    for (size_t k = 0; k < NFIELDS; k++) printf("%-16s %12.3e %8ld\n", fields[k].name, worst_stat[k], worst_at[k]);

    /* the whole state */
    const algo_state_layout *off = &ref.ag->off;
    struct {
        const char *name;
        size_t at, n;
    } blocks[] = {
        { "u", off->u, ref.ag->ul.n_params },
        { "d", off->d, ref.ag->dl.n_params },
        { "q1", off->q[0], ref.ag->ql.n_params },
        { "q2", off->q[1], ref.ag->ql.n_params },
        { "q1_target", off->qt[0], ref.ag->ql.n_params },
        { "q2_target", off->qt[1], ref.ag->ql.n_params },
        { "log_alpha", off->log_alpha, 1 },
        { "adam_m_u", off->m_u, ref.ag->ul.n_params },
        { "adam_v_u", off->v_u, ref.ag->ul.n_params },
        { "adam_m_d", off->m_d, ref.ag->dl.n_params },
        { "adam_v_d", off->v_d, ref.ag->dl.n_params },
        { "adam_m_q1", off->m_q[0], ref.ag->ql.n_params },
        { "adam_v_q1", off->v_q[0], ref.ag->ql.n_params },
        { "adam_m_q2", off->m_q[1], ref.ag->ql.n_params },
        { "adam_v_q2", off->v_q[1], ref.ag->ql.n_params },
        { "adam_m_alpha", off->m_alpha, 1 },
        { "adam_v_alpha", off->v_alpha, 1 },
    };
    float *sa = download_state(&ref), *sb = download_state(&dut);
    double max_abs_tol = STATE_MAX_ABS;
    printf("\n%-13s %10s %12s %12s\n", "state block", "elements", "rel norm", "max |diff|");
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
        double dn = 0.0, rn = 0.0, mx = 0.0;
        int adam = !strncmp(blocks[k].name, "adam_", 5);
        for (size_t i = 0; i < blocks[k].n; i++) {
            double x = sa[blocks[k].at + i], y = sb[blocks[k].at + i];
            dn += (x - y) * (x - y);
            rn += x * x;
            mx = fmax(mx, fabs(x - y));
            if (x != x || y != y) mx = INFINITY;
        }
        double rel = sqrt(dn) / fmax(sqrt(rn), 1e-30);
        /* Adam moments are gradient statistics: compared by norm only */
        double norm_tol = adam ? (blocks[k].name[5] == 'm' ? ADAM_M_RTOL : ADAM_V_RTOL) : STATE_NORM_RTOL;
        int bad = !(rel <= norm_tol) || (!adam && !(mx <= max_abs_tol));
        printf("%-13s %10zu %12.3e %12.3e%s\n", blocks[k].name, blocks[k].n, rel, mx, bad ? "  FAIL" : "");
        failures += bad;
    }
    free(sa);
    free(sb);
    close_run(&ref);
    close_run(&dut);
    printf("\ntolerances: statistics rtol %.0e (update 1) .. %.0e (update %ld), atol %.0e; parameters rel norm "
           "%.0e, max |diff| %.0e; Adam moments rel norm %.0e (m), %.0e (v)\n",
           STAT_RTOL0, STAT_RTOL_END, updates, STAT_ATOL, STATE_NORM_RTOL, max_abs_tol, ADAM_M_RTOL, ADAM_V_RTOL);
    printf("%s\n", failures ? "PARITY FAILED" : "parity ok");
    return failures ? 1 : 0;
}
