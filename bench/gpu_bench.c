/*
 * gpu_bench: MFPO on the CUDA backend against the CPU backend on the same machine (docs/cuda.md).
 *
 *   gpu_bench [--smoke] [--sizes 17x6,376x17] [--updates 60] [--warmup 10] [--cpu-updates 50]
 *             [--cpu-threads 0] [--calls 500] [--device cuda|cpu] [--seed 1]
 *
 * For each size (obs x act; HalfCheetah 17x6 and Humanoid 376x17 by default), at the paper's
 * settings (mfpo_agent_config_init: hidden 256 x 3, batch 256, K1 16, K2 32, 101 atoms, 2 probes;
 * clipped double-Q off for HalfCheetah as in the paper), on a replay buffer of 10 000 random
 * transitions:
 *   update_ms          median wall time of mfpo_update() on the device, CUDA graphs on (the default),
 *                      over `updates` updates after `warmup` (the first records the graphs);
 *   update_nograph_ms  the same with MFPO_CUDA_GRAPHS=0 (every op launched one by one);
 *   infer_us           median of mfpo_agent_act() on one observation (batch-1 inference, 2 steps);
 *   select_us          median of mfpo_agent_select_action() on one observation (10 candidates scored
 *                      by the target critics);
 *   cpu_update_ms      median of mfpo_update() on the CPU backend (`cpu-threads`, 0 = all cores; at
 *                      most 3 warm-up updates, and the timed ones stop after 45 s once 10 are in);
 *   cpu_infer_us, cpu_select_us  the same calls on the CPU backend (for reference).
 * mfpo_update() returns after reading its statistics back, so each timing covers the whole update.
 *
 * Output: a table, then per size
 *   RESULT gpu_bench device=<name> update_ms=<f> infer_us=<f> select_us=<f> cpu_update_ms=<f>
 *          obs=<n> act=<n> update_nograph_ms=<f> cpu_infer_us=<f> cpu_select_us=<f> cpu_threads=<n>
 * (device: the device name with spaces as '_'). Without a usable CUDA device it prints
 * "skipped: no CUDA device (<reason>)" and exits 77. --device cpu runs the "device" columns on the
 * CPU backend too (a CI check of this program; the figures then mean nothing). --smoke: tiny
 * sizes and counts.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mfpo.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *x, size_t n, double q)
{
    if (!n) return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return x[lo] + (pos - (double)lo) * (x[hi] - x[lo]);
}

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static float urand(float lo, float hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}

static void check(mfpo_status s, const char *what, const mfpo_context *ctx)
{
    if (s == MFPO_OK) return;
    fprintf(stderr, "gpu_bench: %s: %s (%s)\n", what, mfpo_status_string(s), mfpo_last_error(ctx));
    exit(1);
}

/* Wall-time cap of one measurement's timed updates (the 5-minute budget of bench/gpu.sh). */
#define BUDGET_S 45.0

typedef struct timing {
    int updates; /* timed updates actually run */
    double update_ms, update_p10, update_p90, infer_us, select_us;
    char device[160];
} timing;

typedef struct bench_opts {
    size_t obs, act;
    int smoke, updates, warmup, calls, threads;
    unsigned long long seed;
} bench_opts;

/* One context on `kind`; graphs: -1 leave MFPO_CUDA_GRAPHS alone, 0/1 set it. Returns 0, or 77 with
 * the reason when the backend is unavailable. */
static int measure(const bench_opts *o, mfpo_backend_kind kind, int graphs, int updates, int with_infer, timing *t,
                   char *why, size_t why_size)
{
    if (graphs >= 0) setenv("MFPO_CUDA_GRAPHS", graphs ? "1" : "0", 1);
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = kind;
    co.seed = o->seed;
    co.threads = kind == MFPO_BACKEND_CPU ? o->threads : 1;
    mfpo_context *ctx = NULL;
    mfpo_status s = mfpo_context_create(&co, &ctx);
    if (graphs >= 0) unsetenv("MFPO_CUDA_GRAPHS");
    if (s == MFPO_ERR_BACKEND_UNAVAILABLE) {
        snprintf(why, why_size, "%s", mfpo_last_error(NULL));
        return 77;
    }
    check(s, "mfpo_context_create", NULL);
    snprintf(t->device, sizeof t->device, "%s", mfpo_context_device_name(ctx));

    mfpo_agent_config cfg;
    mfpo_agent_config_init(&cfg, o->obs, o->act);
    if (o->obs == 17 && o->act == 6) cfg.clipped_double_q = 0; /* the paper, HalfCheetah only */
    if (o->smoke) {
        cfg.hidden_width = 32;
        cfg.batch_size = 32;
    }
    mfpo_agent *ag = NULL;
    check(mfpo_agent_create(ctx, &cfg, &ag), "mfpo_agent_create", ctx);

    size_t n = o->smoke ? 500 : 10000, S = o->obs, A = o->act;
    mfpo_replay *rb = NULL;
    check(mfpo_replay_create(ctx, S, A, 2 * n, &rb), "mfpo_replay_create", ctx);
    float *obs = malloc(n * S * sizeof(float)), *next = malloc(n * S * sizeof(float));
    float *act = malloc(n * A * sizeof(float)), *rew = malloc(n * sizeof(float));
    int *term = malloc(n * sizeof(int));
    if (!obs || !next || !act || !rew || !term) exit(1);
    rng = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n * S; i++) obs[i] = urand(-3.0f, 3.0f);
    for (size_t i = 0; i < n * S; i++) next[i] = obs[i] + urand(-0.05f, 0.05f);
    for (size_t i = 0; i < n * A; i++) act[i] = urand(-1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) {
        rew[i] = urand(-1.0f, 5.0f);
        term[i] = i % 1000 == 999;
    }
    check(mfpo_replay_add_batch(rb, n, obs, act, rew, next, term), "mfpo_replay_add_batch", ctx);

    double *dt = malloc((size_t)(updates > o->calls ? updates : o->calls) * sizeof(double));
    if (!dt) exit(1);
    /* the CPU needs little warm-up (no recording, no lazy initialization) and may be slow: at most
     * 3 warm-up updates there, and the timed ones stop after BUDGET_S seconds once 10 are in */
    int warm = kind == MFPO_BACKEND_CPU && o->warmup > 3 ? 3 : o->warmup, done = 0;
    double begin = now();
    for (int i = 0; i < warm; i++) check(mfpo_update(ag, rb, NULL), "mfpo_update", ctx);
    for (int i = 0; i < updates; i++) {
        double t0 = now();
        check(mfpo_update(ag, rb, NULL), "mfpo_update", ctx);
        dt[i] = 1e3 * (now() - t0);
        done = i + 1;
        if (done >= 10 && now() - begin > BUDGET_S) break;
    }
    t->updates = done;
    t->update_p10 = quantile(dt, (size_t)done, 0.1);
    t->update_p90 = quantile(dt, (size_t)done, 0.9);
    t->update_ms = quantile(dt, (size_t)done, 0.5);

    t->infer_us = t->select_us = NAN;
    if (with_infer) {
        float a[64];
        int warm = o->calls / 10 + 2;
        for (int i = 0; i < warm; i++) check(mfpo_agent_act(ag, obs + (size_t)i * S, 1, a), "mfpo_agent_act", ctx);
        for (int i = 0; i < o->calls; i++) {
            const float *x = obs + (size_t)(i % (int)n) * S;
            double t0 = now();
            check(mfpo_agent_act(ag, x, 1, a), "mfpo_agent_act", ctx);
            dt[i] = 1e6 * (now() - t0);
        }
        t->infer_us = quantile(dt, (size_t)o->calls, 0.5);
        for (int i = 0; i < warm; i++)
            check(mfpo_agent_select_action(ag, obs + (size_t)i * S, 1, a), "mfpo_agent_select_action", ctx);
        for (int i = 0; i < o->calls; i++) {
            const float *x = obs + (size_t)(i % (int)n) * S;
            double t0 = now();
            check(mfpo_agent_select_action(ag, x, 1, a), "mfpo_agent_select_action", ctx);
            dt[i] = 1e6 * (now() - t0);
        }
        t->select_us = quantile(dt, (size_t)o->calls, 0.5);
    }
    free(dt);
    free(obs), free(next), free(act), free(rew), free(term);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    return 0;
}

/* Thread count in a CPU device name "cpu (..., N threads)"; 0 when absent. */
static int name_threads(const char *name)
{
    const char *p = strstr(name, " thread");
    if (!p) return 0;
    while (p > name && p[-1] >= '0' && p[-1] <= '9') p--;
    return atoi(p);
}

/* "cuda (NVIDIA H100 80GB HBM3, sm_90)" -> "NVIDIA_H100_80GB_HBM3/sm_90" */
static void token(const char *name, char *out, size_t n)
{
    const char *p = strchr(name, '(');
    size_t k = 0;
    p = p ? p + 1 : name;
    for (; *p && *p != ')' && k + 1 < n; p++) {
        if (*p == ',' && p[1] == ' ') {
            out[k++] = '/';
            p++;
        } else {
            out[k++] = *p == ' ' ? '_' : *p;
        }
    }
    out[k] = 0;
}

int main(int argc, char **argv)
{
    bench_opts o = { 0, 0, 0, 60, 10, 500, 0, 1 };
    int cpu_updates = 50;
    const char *sizes = "17x6,376x17", *device = "cuda";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--smoke")) {
            o.smoke = 1;
            continue;
        }
        if (!v) goto usage;
        if (!strcmp(a, "--sizes"))
            sizes = v;
        else if (!strcmp(a, "--updates"))
            o.updates = atoi(v);
        else if (!strcmp(a, "--warmup"))
            o.warmup = atoi(v);
        else if (!strcmp(a, "--cpu-updates"))
            cpu_updates = atoi(v);
        else if (!strcmp(a, "--cpu-threads"))
            o.threads = atoi(v);
        else if (!strcmp(a, "--calls"))
            o.calls = atoi(v);
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--seed"))
            o.seed = strtoull(v, NULL, 10);
        else
            goto usage;
        i++;
    }
    if (o.smoke) {
        sizes = "3x2";
        o.updates = o.updates > 5 ? 5 : o.updates;
        o.warmup = o.warmup > 2 ? 2 : o.warmup;
        cpu_updates = cpu_updates > 3 ? 3 : cpu_updates;
        o.calls = o.calls > 10 ? 10 : o.calls;
    }
    if (o.updates < 1 || o.warmup < 0 || cpu_updates < 0 || o.calls < 1 || o.threads < 0) goto usage;
    mfpo_backend_kind dev_kind;
    if (!strcmp(device, "cuda"))
        dev_kind = MFPO_BACKEND_CUDA;
    else if (!strcmp(device, "cpu"))
        dev_kind = MFPO_BACKEND_CPU;
    else
        goto usage;
    unsetenv("MFPO_BACKEND"); /* the kinds asked for are meant literally */

    printf("gpu_bench: libmfpo %s; %d updates after %d warm-up (CPU: %d), %d inference calls%s\n",
           mfpo_version_string(), o.updates, o.warmup, cpu_updates, o.calls, o.smoke ? " [smoke]" : "");
    printf("%-8s %-9s %10s %10s %10s %12s %10s %10s %12s %11s %11s\n", "size", "backend", "update_ms", "p10", "p90",
           "nograph_ms", "infer_us", "select_us", "cpu_update", "cpu_infer", "cpu_select");
    char results[8][512];
    int nres = 0;
    for (const char *p = sizes; *p && nres < 8;) {
        unsigned long s = 0, a = 0;
        int used = 0;
        if (sscanf(p, "%lux%lu%n", &s, &a, &used) != 2 || s < 1 || a < 1 || a > 64) goto usage;
        p += used;
        if (*p == ',') p++;
        o.obs = s;
        o.act = a;

        timing g, ng, c;
        char why[512] = "";
        int rc = measure(&o, dev_kind, dev_kind == MFPO_BACKEND_CUDA ? 1 : -1, o.updates, 1, &g, why, sizeof why);
        if (rc == 77) {
            printf("skipped: no CUDA device (%s)\n", why);
            return 77;
        }
        ng.update_ms = NAN;
        if (dev_kind == MFPO_BACKEND_CUDA) measure(&o, dev_kind, 0, o.updates, 0, &ng, why, sizeof why);
        c.update_ms = c.infer_us = c.select_us = NAN;
        snprintf(c.device, sizeof c.device, "cpu");
        if (cpu_updates > 0) measure(&o, MFPO_BACKEND_CPU, -1, cpu_updates, 1, &c, why, sizeof why);

        char size[32], tok[160];
        snprintf(size, sizeof size, "%lux%lu", s, a);
        token(g.device, tok, sizeof tok);
        printf("%-8s %-9s %10.3f %10.3f %10.3f %12.3f %10.1f %10.1f %12.3f %11.1f %11.1f\n", size,
               dev_kind == MFPO_BACKEND_CUDA ? "cuda" : "cpu", g.update_ms, g.update_p10, g.update_p90, ng.update_ms,
               g.infer_us, g.select_us, c.update_ms, c.infer_us, c.select_us);
        printf("  device: %s (%d timed updates); cpu: %s (%d timed updates)\n", g.device, g.updates, c.device,
               cpu_updates > 0 ? c.updates : 0);
        snprintf(results[nres++], sizeof results[0],
                 "RESULT gpu_bench device=%s update_ms=%.4f infer_us=%.2f select_us=%.2f cpu_update_ms=%.4f obs=%lu "
                 "act=%lu update_nograph_ms=%.4f cpu_infer_us=%.2f cpu_select_us=%.2f cpu_threads=%d",
                 tok, g.update_ms, g.infer_us, g.select_us, c.update_ms, s, a, ng.update_ms, c.infer_us, c.select_us,
                 name_threads(c.device));
    }
    for (int i = 0; i < nres; i++) printf("%s\n", results[i]);
    return 0;
usage:
    fprintf(stderr,
            "usage: %s [--smoke] [--sizes 17x6,376x17] [--updates 60] [--warmup 10] [--cpu-updates 50]\n"
            "          [--cpu-threads 0] [--calls 500] [--device cuda|cpu] [--seed 1]\n",
            argv[0]);
    return 2;
}
