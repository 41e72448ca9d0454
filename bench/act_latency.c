/*
 * act_latency: microseconds per mfpo_agent_act() call at batch 1 from C, with the "pendulum"
 * preset (or --hidden/--depth), the reference of bench/python_act_overhead.py.
 *
 *   act_latency [--calls N] [--rounds R] [--hidden W] [--depth D]
 *
 * Prints one line per round, "ROUND <r> us_per_call=<f>", after a warm-up of N calls.
 */
#include <stdio.h>

#include <mfpo.h>

#include "bench_common.h"
#include "common/cli.h"

int main(int argc, char **argv)
{
    long calls = 20000, rounds = 1, hidden = 64, depth = 2;
    cli_arg args[] = { { "--calls", CLI_LONG, &calls },
                       { "--rounds", CLI_LONG, &rounds },
                       { "--hidden", CLI_LONG, &hidden },
                       { "--depth", CLI_LONG, &depth } };
    if (cli_parse(argc, argv, args, 4) != 0) return 2;
    if (calls < 1 || rounds < 1 || hidden < 1 || depth < 1) {
        fprintf(stderr, "act_latency: --calls, --rounds, --hidden and --depth must be >= 1\n");
        return 2;
    }
    mfpo_context_options o;
    mfpo_context_options_init(&o);
    o.backend = MFPO_BACKEND_CPU;
    o.threads = 1;
    mfpo_context *ctx = NULL;
    BENCH_CHECK(NULL, mfpo_context_create(&o, &ctx));
    mfpo_agent_config c;
    BENCH_CHECK(NULL, mfpo_agent_config_preset(&c, "pendulum", 3, 1));
    c.hidden_width = (size_t)hidden;
    c.hidden_depth = (size_t)depth;
    mfpo_agent *ag = NULL;
    BENCH_CHECK(ctx, mfpo_agent_create(ctx, &c, &ag));
    float obs[3] = { 0.5f, -0.25f, 1.0f }, act[1];
    for (long i = 0; i < calls; i++) BENCH_CHECK(ctx, mfpo_agent_act(ag, obs, 1, act));
    for (long r = 0; r < rounds; r++) {
        double t0 = bench_now();
        for (long i = 0; i < calls; i++) BENCH_CHECK(ctx, mfpo_agent_act(ag, obs, 1, act));
        printf("ROUND %ld us_per_call=%.3f\n", r, (bench_now() - t0) / (double)calls * 1e6);
    }
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}
