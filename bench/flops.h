/*
 * Floating-point operations of one MFPO update, counted from the layer shapes.
 *
 * Only matrix products are counted, 2 m n k per GEMM, exactly the GEMMs that lib/algo/update.c
 * and lib/nn/net.c issue (forward, forward-mode JVP and reverse passes; no input gradients, which
 * the update never asks for), including the grouped first layer (a state's share of the first
 * layer formed once per state in the policy proposal's sampler and in the scoring). Elementwise
 * work (LayerNorm, GELU, softmax, Fourier features, Adam) is not counted. The closed form is
 * written out in docs/performance.md; keep the two in step with the code.
 */
#ifndef MFPO_BENCH_FLOPS_H
#define MFPO_BENCH_FLOPS_H

#include <mfpo.h>

typedef struct bench_flops {
    double critic;      /* (a) */
    double actor;       /* (b) */
    double divergence;  /* (c) */
    double temperature; /* (d): no GEMM */
    double total;       /* (a) + ((b) + (c) + (d)) / actor_delay: the average over updates */
    double dominant;    /* the part of (b) that scores the B (K1 + K2) candidates with both critics */
    double dense_total; /* `total` if every row's first layer were computed in full (no grouping) */
} bench_flops;

void bench_update_flops(const mfpo_agent_config *c, bench_flops *out);

#endif
