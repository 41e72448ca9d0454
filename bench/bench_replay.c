/*
 * bench_replay: replay-buffer throughput (capacity 1e6, obs 17, act 6 by default).
 *
 *   bench_replay [--smoke] [--capacity 1000000] [--obs 17] [--act 6] [--adds N] [--batch 1000]
 *                [--sample-batch 256] [--samples N] [--seed 1]
 *
 * add_per_s: single mfpo_replay_add() calls per second (the buffer is filled once past its
 * capacity, so the steady state of a full ring is included); add_batch_per_s: transitions per
 * second through mfpo_replay_add_batch() in batches of `batch`; sample_rows_per_s: rows per
 * second drawn by mfpo_replay_sample() in batches of `sample-batch` (the update's B = 256),
 * every output requested. Each figure is the median over 5 timed rounds.
 *
 *   RESULT bench_replay add_per_s=<f> add_batch_per_s=<f> sample_rows_per_s=<f>
 */
#include <stdio.h>
#include <stdlib.h>

#include <mfpo.h>

#include "bench_common.h"
#include "common/cli.h"

#define ROUNDS 5

int main(int argc, char **argv)
{
    int smoke = bench_take_flag(&argc, argv, "--smoke");
    long capacity = 1000000, adds = 0, samples = 0, seed = 1;
    int obs_dim = 17, act_dim = 6, batch = 1000, sample_batch = 256;
    cli_arg args[] = { { "--capacity", CLI_LONG, &capacity }, { "--obs", CLI_INT, &obs_dim },
                       { "--act", CLI_INT, &act_dim },        { "--adds", CLI_LONG, &adds },
                       { "--batch", CLI_INT, &batch },        { "--sample-batch", CLI_INT, &sample_batch },
                       { "--samples", CLI_LONG, &samples },   { "--seed", CLI_LONG, &seed } };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) {
        fprintf(stderr, "       (and --smoke: a few operations, for CI)\n");
        return 2;
    }
    if (adds <= 0) adds = smoke ? 20000 : 1200000; /* per round: single adds */
    if (samples <= 0) samples = smoke ? 40 : 4000; /* per round: sample calls */
    if (capacity < 1 || obs_dim < 1 || act_dim < 1 || batch < 1 || sample_batch < 1) {
        fprintf(stderr, "bench_replay: sizes must be >= 1\n");
        return 2;
    }
    size_t S = (size_t)obs_dim, A = (size_t)act_dim, nb = (size_t)batch, ns = (size_t)sample_batch;
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = MFPO_BACKEND_CPU;
    co.threads = 1;
    co.seed = (uint64_t)seed;
    mfpo_context *ctx;
    BENCH_CHECK(NULL, mfpo_context_create(&co, &ctx));
    mfpo_replay *rb;
    BENCH_CHECK(ctx, mfpo_replay_create(ctx, S, A, (size_t)capacity, &rb));
    printf("INFO bench_replay mfpo=%s smoke=%d capacity=%ld obs=%d act=%d memory_bytes=%zu adds=%ld batch=%d "
           "sample_batch=%d samples=%ld\n",
           mfpo_version_string(), smoke, capacity, obs_dim, act_dim, mfpo_replay_memory_bytes(rb), adds, batch,
           sample_batch, samples);
    bench_print_blas();

    /* a pool of distinct transitions that the adds cycle through */
    size_t pool = nb > 4096 ? nb : 4096;
    float *obs = malloc(pool * S * sizeof(float)), *nobs = malloc(pool * S * sizeof(float));
    float *act = malloc(pool * A * sizeof(float)), *rew = malloc(pool * sizeof(float));
    int *term = calloc(pool, sizeof(int));
    float *so = malloc(ns * S * sizeof(float)), *sn = malloc(ns * S * sizeof(float));
    float *sa = malloc(ns * A * sizeof(float));
    float *sr = malloc(ns * sizeof(float)), *sm = malloc(ns * sizeof(float));
    if (!obs || !nobs || !act || !rew || !term || !so || !sn || !sa || !sr || !sm) {
        fprintf(stderr, "bench_replay: out of memory\n");
        return 1;
    }
    unsigned long long rng = 5;
    bench_fill_uniform(obs, pool * S, -1.0f, 1.0f, &rng);
    bench_fill_uniform(nobs, pool * S, -1.0f, 1.0f, &rng);
    bench_fill_uniform(act, pool * A, -1.0f, 1.0f, &rng);
    bench_fill_uniform(rew, pool, -1.0f, 1.0f, &rng);
    for (size_t i = 0; i < pool; i += 101) term[i] = 1;

    double r_add[ROUNDS], r_batch[ROUNDS], r_sample[ROUNDS];
    double sink = 0.0;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = bench_now();
        for (long i = 0; i < adds; i++) {
            size_t j = (size_t)i % pool;
            BENCH_CHECK(ctx, mfpo_replay_add(rb, obs + j * S, act + j * A, rew[j], nobs + j * S, term[j]));
        }
        double t1 = bench_now();
        r_add[round] = (double)adds / (t1 - t0);

        long batches = (adds + batch - 1) / batch;
        t0 = bench_now();
        for (long i = 0; i < batches; i++) {
            size_t j = (size_t)(i * batch) % (pool - nb + 1);
            BENCH_CHECK(ctx, mfpo_replay_add_batch(rb, nb, obs + j * S, act + j * A, rew + j, nobs + j * S, term + j));
        }
        t1 = bench_now();
        r_batch[round] = (double)batches * (double)nb / (t1 - t0);

        t0 = bench_now();
        for (long i = 0; i < samples; i++) {
            BENCH_CHECK(ctx, mfpo_replay_sample(rb, ns, so, sa, sr, sn, sm));
            sink += so[0] + sr[ns - 1];
        }
        t1 = bench_now();
        r_sample[round] = (double)samples * (double)ns / (t1 - t0);
    }
    printf("INFO bench_replay size=%zu (checksum %.3g)\n", mfpo_replay_size(rb), sink);
    printf("RESULT bench_replay add_per_s=%.0f add_batch_per_s=%.0f sample_rows_per_s=%.0f\n",
           bench_quantile(r_add, ROUNDS, 0.5), bench_quantile(r_batch, ROUNDS, 0.5),
           bench_quantile(r_sample, ROUNDS, 0.5));
    free(obs);
    free(nobs);
    free(act);
    free(rew);
    free(term);
    free(so);
    free(sn);
    free(sa);
    free(sr);
    free(sm);
    mfpo_replay_destroy(rb);
    mfpo_context_destroy(ctx);
    return 0;
}
