/*
 * bench_infer: batch-1 inference latency on one thread (docs/algorithm.md §3, §6).
 *
 *   bench_infer [--smoke] [--obs 17] [--act 6] [--calls 2000] [--warmup 100] [--backend cpu] [--seed 1]
 *
 * Times, per call and for one observation: the plain 2-step sample (mfpo_agent_act), the sample
 * with likelihood (mfpo_policy_sample_logp with the agent's divergence net), and evaluation-time
 * selection among `eval_candidates` (10) samples scored by the target critics
 * (mfpo_agent_select_action). Medians over `calls` calls, after `warmup` untimed calls; the
 * three kinds of call are interleaved so that a load change on the machine hits all three.
 *
 *   RESULT bench_infer sample_us=<f> logp_us=<f> select10_us=<f>
 */
#include <stdio.h>
#include <stdlib.h>

#include <mfpo.h>

#include "bench_common.h"
#include "common/cli.h"

int main(int argc, char **argv)
{
    int smoke = bench_take_flag(&argc, argv, "--smoke");
    int obs_dim = 17, act_dim = 6, calls = 2000, warmup = 100;
    long seed = 1;
    const char *backend = "cpu";
    if (smoke) {
        calls = 20;
        warmup = 2;
    }
    cli_arg args[] = { { "--obs", CLI_INT, &obs_dim },        { "--act", CLI_INT, &act_dim },
                       { "--calls", CLI_INT, &calls },        { "--warmup", CLI_INT, &warmup },
                       { "--backend", CLI_STRING, &backend }, { "--seed", CLI_LONG, &seed } };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) {
        fprintf(stderr, "       (and --smoke: a few calls, for CI)\n");
        return 2;
    }
    if (obs_dim < 1 || act_dim < 1 || calls < 1 || warmup < 0) {
        fprintf(stderr, "bench_infer: --obs, --act and --calls must be >= 1\n");
        return 2;
    }
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    if (cli_backend(backend, &co.backend) != 0) return 2;
    co.threads = 1;
    co.seed = (uint64_t)seed;
    mfpo_context *ctx;
    BENCH_CHECK(NULL, mfpo_context_create(&co, &ctx));
    printf("INFO bench_infer mfpo=%s smoke=%d device=\"%s\" obs=%d act=%d calls=%d\n", mfpo_version_string(), smoke,
           mfpo_context_device_name(ctx), obs_dim, act_dim, calls);
    bench_print_blas();

    mfpo_agent_config cfg;
    mfpo_agent_config_init(&cfg, (size_t)obs_dim, (size_t)act_dim);
    mfpo_agent *ag;
    BENCH_CHECK(ctx, mfpo_agent_create(ctx, &cfg, &ag));
    mfpo_policy *pol = mfpo_agent_policy(ag);
    mfpo_divergence *div = mfpo_agent_divergence(ag);

    size_t S = (size_t)obs_dim, A = (size_t)act_dim, n = (size_t)calls;
    float *obs = malloc(S * sizeof(float)), *a = malloc(A * sizeof(float)), logp = 0.0f;
    double *t[3] = { malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n * sizeof(double)) };
    if (!obs || !a || !t[0] || !t[1] || !t[2]) {
        fprintf(stderr, "bench_infer: out of memory\n");
        return 1;
    }
    unsigned long long rng = 99;
    double sink = 0.0;
    for (int i = -warmup; i < calls; i++) {
        bench_fill_uniform(obs, S, -1.0f, 1.0f, &rng);
        double t0 = bench_now();
        BENCH_CHECK(ctx, mfpo_agent_act(ag, obs, 1, a));
        double t1 = bench_now();
        sink += a[0];
        BENCH_CHECK(ctx, mfpo_policy_sample_logp(pol, div, obs, 1, a, &logp));
        double t2 = bench_now();
        sink += a[0] + logp;
        BENCH_CHECK(ctx, mfpo_agent_select_action(ag, obs, 1, a));
        double t3 = bench_now();
        sink += a[0];
        if (i < 0) continue;
        t[0][i] = (t1 - t0) * 1e6;
        t[1][i] = (t2 - t1) * 1e6;
        t[2][i] = (t3 - t2) * 1e6;
    }
    double med[3], p90[3];
    for (int k = 0; k < 3; k++) {
        p90[k] = bench_quantile(t[k], n, 0.9);
        med[k] = bench_quantile(t[k], n, 0.5);
    }
    printf("INFO bench_infer p90 sample_us=%.2f logp_us=%.2f select%zu_us=%.2f (checksum %.3g)\n", p90[0], p90[1],
           cfg.eval_candidates, p90[2], sink);
    printf("RESULT bench_infer sample_us=%.2f logp_us=%.2f select10_us=%.2f\n", med[0], med[1], med[2]);
    if (cfg.eval_candidates != 10)
        printf("WARNING eval_candidates is %zu, not 10; select10_us measures %zu candidates\n", cfg.eval_candidates,
               cfg.eval_candidates);
    for (int k = 0; k < 3; k++) free(t[k]);
    free(obs);
    free(a);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}
