/*
 * bench_update: time of one mfpo_update() at the paper's settings, its FLOP rate, the cblas_sgemm
 * rate on the update's dominant shape in the same run, and a per-stage breakdown.
 *
 *   bench_update [--smoke] [--sizes 17x6,376x17] [--threads 1,2] [--updates 50] [--warmup 5]
 *                [--phase-updates 20] [--sgemm-reps 10] [--backend cpu|cuda|auto] [--seed 1]
 *                [--hidden W] [--depth D] [--batch B] [--k1 N] [--k2 N]
 *
 * For each size and thread count: a fresh context with that many threads, an agent with
 * mfpo_agent_config_init() defaults (network width and depth, batch and proposal sizes
 * overridable: the Pendulum example's are --sizes 3x1 --hidden 64 --depth 2 --batch 64 --k1 4 --k2 8), a replay buffer of random transitions; `warmup` updates,
 * then `updates` timed ones, then `phase-updates` more whose stage boundaries are stamped through
 * the internal stage hook (lib/algo/update.h; kept off the timed updates because a hook turns
 * off recorded updates on backends that replay them). Output (one line per combination):
 *
 *   RESULT bench_update obs=17 act=6 threads=2 ms=<median> p10=<f> p90=<f> gflops=<f>
 *          sgemm_gflops=<f> peak_frac=<f>
 *   RESULT bench_phases obs=17 act=6 threads=2 critic_ms=<f> actor_ms=<f> divergence_ms=<f>
 *          temperature_ms=<f>
 *
 * gflops = FLOPs of one update (bench/flops.c, docs/performance.md) / median time; sgemm_gflops =
 * median rate of cblas_sgemm on B (K1 + K2) x H x H (12288 x 256 x 256 at the paper's settings)
 * with the same thread count (nan with --sgemm-reps 0); peak_frac = gflops / sgemm_gflops. Phase
 * times are medians over the phase updates (0: printed as nan); the time outside the four stages
 * (batch draw and upload, the non-finite guard's snapshot and check) is on an INFO line as other_ms.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mfpo.h>

#include "algo/update.h"
#include "bench_common.h"
#include "common/cli.h"
#include "flops.h"

#define MAX_LIST 8

typedef struct stamps {
    be_backend *be;
    double t[5];
    int seen;
} stamps;

/* Stage hook: 0 = batch loaded (start of §4), 1..4 = after (a)..(d). */
static void stage_hook(void *user, int stage, const struct algo_update_ws *ws)
{
    stamps *st = user;
    (void)ws;
    if (stage < 0 || stage > 4) return;
    st->be->ops->synchronize(st->be);
    st->t[stage] = bench_now();
    st->seen |= 1 << stage;
}

static int parse_list(const char *text, size_t *a, size_t *b, int pairs, size_t max)
{
    size_t n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        unsigned long x = strtoul(p, &end, 10), y = 0;
        if (end == p) return -1;
        p = end;
        if (pairs) {
            if (*p != 'x') return -1;
            p++;
            y = strtoul(p, &end, 10);
            if (end == p) return -1;
            p = end;
            b[n] = y;
        }
        a[n++] = x;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return *p ? -1 : (int)n;
}

/* Median cblas_sgemm rate (GFLOP/s) of C[m x n] = A[m x k] B[k x n], row-major, on `threads`. */
static double sgemm_rate(size_t m, size_t n, size_t k, int threads, int reps)
{
    if (reps <= 0) return NAN;
    float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float)), *c = malloc(m * n * sizeof(float));
    double *t = malloc((size_t)reps * sizeof(double));
    unsigned long long rng = 12345;
    if (!a || !b || !c || !t) {
        fprintf(stderr, "bench_update: out of memory for the sgemm measurement\n");
        exit(1);
    }
    bench_fill_uniform(a, m * k, -1.0f, 1.0f, &rng);
    bench_fill_uniform(b, k * n, -0.1f, 0.1f, &rng);
    memset(c, 0, m * n * sizeof(float));
    openblas_set_num_threads(threads);
    for (int i = 0; i < 2; i++) /* warm-up: thread start, page faults */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)n, 0.0f,
                    c, (int)n);
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)n, 0.0f,
                    c, (int)n);
        t[i] = bench_now() - t0;
    }
    double med = bench_quantile(t, (size_t)reps, 0.5);
    free(a);
    free(b);
    free(c);
    free(t);
    return 2.0 * (double)m * (double)n * (double)k / med * 1e-9;
}

typedef struct run_opts {
    int updates, warmup, phase_updates, sgemm_reps;
    int hidden, depth, batch, k1, k2; /* 0: the configuration's default */
    long seed;
    mfpo_backend_kind backend;
} run_opts;

static void run_one(size_t S, size_t A, int threads, const run_opts *o)
{
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = o->backend;
    co.threads = threads;
    co.seed = (uint64_t)o->seed;
    mfpo_context *ctx;
    BENCH_CHECK(NULL, mfpo_context_create(&co, &ctx));

    mfpo_agent_config cfg;
    mfpo_agent_config_init(&cfg, S, A);
    if (o->hidden) cfg.hidden_width = (size_t)o->hidden;
    if (o->depth) cfg.hidden_depth = (size_t)o->depth;
    if (o->batch) cfg.batch_size = (size_t)o->batch;
    if (o->k1) cfg.policy_samples = (size_t)o->k1;
    if (o->k2) cfg.gaussian_samples = (size_t)o->k2;
    mfpo_agent *ag;
    BENCH_CHECK(ctx, mfpo_agent_create(ctx, &cfg, &ag));

    /* random transitions: the update's cost does not depend on their values */
    size_t fill = 20000;
    mfpo_replay *rb;
    BENCH_CHECK(ctx, mfpo_replay_create(ctx, S, A, fill, &rb));
    float *obs = malloc(fill * S * sizeof(float)), *nobs = malloc(fill * S * sizeof(float));
    float *act = malloc(fill * A * sizeof(float)), *rew = malloc(fill * sizeof(float));
    int *term = calloc(fill, sizeof(int));
    if (!obs || !nobs || !act || !rew || !term) {
        fprintf(stderr, "bench_update: out of memory\n");
        exit(1);
    }
    unsigned long long rng = (unsigned long long)o->seed * 2654435761ull + S * 131 + A;
    bench_fill_uniform(obs, fill * S, -1.0f, 1.0f, &rng);
    bench_fill_uniform(nobs, fill * S, -1.0f, 1.0f, &rng);
    bench_fill_uniform(act, fill * A, -1.0f, 1.0f, &rng);
    bench_fill_uniform(rew, fill, -1.0f, 1.0f, &rng);
    for (size_t i = 0; i < fill; i += 97) term[i] = 1;
    BENCH_CHECK(ctx, mfpo_replay_add_batch(rb, fill, obs, act, rew, nobs, term));
    free(obs);
    free(nobs);
    free(act);
    free(rew);
    free(term);

    mfpo_update_stats stats = { .struct_size = sizeof stats };
    for (int i = 0; i < o->warmup; i++) BENCH_CHECK(ctx, mfpo_update(ag, rb, &stats));

    /* the timed updates run without the stage hook: a hook turns off recorded updates (graph
     * replay on backends that have it), so it would change what is being timed */
    size_t n = (size_t)o->updates, np = (size_t)o->phase_updates;
    double *tot = malloc(n * sizeof(double)), *ph[5];
    for (int k = 0; k < 5; k++) ph[k] = malloc((np ? np : 1) * sizeof(double));
    if (!tot || !ph[0] || !ph[1] || !ph[2] || !ph[3] || !ph[4]) {
        fprintf(stderr, "bench_update: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        double t0 = bench_now();
        BENCH_CHECK(ctx, mfpo_update(ag, rb, &stats));
        tot[i] = (bench_now() - t0) * 1e3;
        if (!stats.actor_updated) {
            fprintf(stderr, "bench_update: update %zu skipped stages (b)-(d) (actor_delay != 1?)\n", i);
            exit(1);
        }
    }
    /* then the per-stage breakdown: each stage boundary stamped through the internal hook */
    stamps st = { ctx->be, { 0 }, 0 };
    ag->hook = stage_hook;
    ag->hook_user = &st;
    for (size_t i = 0; i < np; i++) {
        st.seen = 0;
        double t0 = bench_now();
        BENCH_CHECK(ctx, mfpo_update(ag, rb, &stats));
        double t1 = bench_now();
        if (st.seen != 0x1f) {
            fprintf(stderr, "bench_update: update %zu did not pass all five stage hooks\n", i);
            exit(1);
        }
        for (int k = 0; k < 4; k++) ph[k][i] = (st.t[k + 1] - st.t[k]) * 1e3;
        ph[4][i] = (t1 - t0) * 1e3 - (st.t[4] - st.t[0]) * 1e3;
    }
    ag->hook = NULL;

    bench_flops fl;
    bench_update_flops(&cfg, &fl);
    size_t rows = cfg.batch_size * (cfg.policy_samples + cfg.gaussian_samples);
    double sg = sgemm_rate(rows, cfg.hidden_width, cfg.hidden_width, threads, o->sgemm_reps);

    double p10 = bench_quantile(tot, n, 0.1), p90 = bench_quantile(tot, n, 0.9), med = bench_quantile(tot, n, 0.5);
    double pm[5];
    for (int k = 0; k < 5; k++) pm[k] = bench_quantile(ph[k], np, 0.5);
    double gflops = fl.total / (med * 1e-3) * 1e-9;

    printf("INFO device=\"%s\" obs=%zu act=%zu threads=%d updates=%zu warmup=%d phase_updates=%zu "
           "critic_loss=%.6g actor_loss=%.6g alpha=%.6g\n",
           mfpo_context_device_name(ctx), S, A, threads, n, o->warmup, np, (double)stats.critic_loss,
           (double)stats.actor_loss, (double)stats.alpha);
    printf("INFO flops obs=%zu act=%zu total=%.6e critic=%.6e actor=%.6e divergence=%.6e temperature=%.6e "
           "scoring=%.6e dense_total=%.6e sgemm_shape=%zux%zux%zu\n",
           S, A, fl.total, fl.critic, fl.actor, fl.divergence, fl.temperature, fl.dominant, fl.dense_total, rows,
           cfg.hidden_width, cfg.hidden_width);
    printf("INFO phase_gflops obs=%zu act=%zu threads=%d critic=%.2f actor=%.2f divergence=%.2f other_ms=%.3f "
           "sum_phases_ms=%.3f\n",
           S, A, threads, fl.critic / (pm[0] * 1e-3) * 1e-9, fl.actor / (pm[1] * 1e-3) * 1e-9,
           fl.divergence / (pm[2] * 1e-3) * 1e-9, pm[4], pm[0] + pm[1] + pm[2] + pm[3]);
    printf("RESULT bench_update obs=%zu act=%zu threads=%d ms=%.3f p10=%.3f p90=%.3f gflops=%.2f sgemm_gflops=%.2f "
           "peak_frac=%.3f\n",
           S, A, threads, med, p10, p90, gflops, sg, gflops / sg);
    printf("RESULT bench_phases obs=%zu act=%zu threads=%d critic_ms=%.3f actor_ms=%.3f divergence_ms=%.3f "
           "temperature_ms=%.3f\n",
           S, A, threads, pm[0], pm[1], pm[2], pm[3]);
    fflush(stdout);

    free(tot);
    for (int k = 0; k < 5; k++) free(ph[k]);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    int smoke = bench_take_flag(&argc, argv, "--smoke");
    const char *sizes = "17x6,376x17", *threads = "1,2", *backend = "cpu";
    run_opts o = { 50, 5, 20, 10, 0, 0, 0, 0, 0, 1, MFPO_BACKEND_CPU };
    if (smoke) {
        o.updates = 3;
        o.warmup = 1;
        o.phase_updates = 2;
        o.sgemm_reps = 2;
    }
    cli_arg args[] = {
        { "--sizes", CLI_STRING, &sizes },
        { "--threads", CLI_STRING, &threads },
        { "--updates", CLI_INT, &o.updates },
        { "--warmup", CLI_INT, &o.warmup },
        { "--phase-updates", CLI_INT, &o.phase_updates },
        { "--sgemm-reps", CLI_INT, &o.sgemm_reps },
        { "--backend", CLI_STRING, &backend },
        { "--seed", CLI_LONG, &o.seed },
        { "--hidden", CLI_INT, &o.hidden },
        { "--depth", CLI_INT, &o.depth },
        { "--batch", CLI_INT, &o.batch },
        { "--k1", CLI_INT, &o.k1 },
        { "--k2", CLI_INT, &o.k2 },
    };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) {
        fprintf(stderr, "       (and --smoke: a few updates, for CI)\n");
        return 2;
    }
    size_t obs[MAX_LIST], act[MAX_LIST], thr[MAX_LIST];
    int ns = parse_list(sizes, obs, act, 1, MAX_LIST), nt = parse_list(threads, thr, NULL, 0, MAX_LIST);
    if (ns <= 0 || nt <= 0 || o.updates < 1 || o.warmup < 0 || o.phase_updates < 0) {
        fprintf(stderr, "bench_update: --sizes is OBSxACT[,OBSxACT...], --threads N[,N...], --updates >= 1, "
                        "--phase-updates >= 0\n");
        return 2;
    }
    if (cli_backend(backend, &o.backend) != 0) return 2;
    printf("INFO bench_update mfpo=%s smoke=%d\n", mfpo_version_string(), smoke);
    bench_print_blas();
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < nt; j++) run_one(obs[i], act[i], (int)thr[j], &o);
    return 0;
}
