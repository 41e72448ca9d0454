/*
 * Data-parallel gradient reduction (include/mfpo/parallel.h, docs/distributed.md): the one
 * contiguous gradient buffer of an update and the calls of the caller's all-reduce on its parts.
 * The update (lib/algo/update.c) calls algo_reduce_grads() between each backward pass and the
 * Adam step it feeds; without an installed hook that call does nothing.
 */
#ifndef MFPO_ALGO_REDUCE_H
#define MFPO_ALGO_REDUCE_H

#include <stddef.h>

#include <mfpo/parallel.h>

/* The parts of the gradient buffer, in buffer order and in the order an update reduces them. */
enum { REDUCE_CRITIC, REDUCE_ACTOR, REDUCE_DIVERGENCE, REDUCE_PARTS };

/* Offsets (floats) in the gradient buffer: [q1 | q2 | u | d | log alpha], each padded to 16. */
typedef struct algo_grad_layout {
    size_t q[2], u, d, alpha, total;
    size_t part[REDUCE_PARTS + 1]; /* part k is [part[k], part[k + 1]) */
} algo_grad_layout;

void algo_grad_layout_init(algo_grad_layout *g, size_t n_q, size_t n_u, size_t n_d);

/* The installed hook and what happened to it in the current update. */
typedef struct algo_reduce {
    mfpo_collective_fn fn; /* NULL: single process */
    void *user;
    int world;
    int failed_part; /* -1, or the part whose call failed in this update (later parts then skipped) */
    int failed_rc;
} algo_reduce;

/* Reduces part `part` of the agent's gradient buffer in place (sum over ranks, then 1/world). */
struct mfpo_agent;
void algo_reduce_grads(struct mfpo_agent *ag, int part);

#endif
