/*
 * Networks of docs/algorithm.md §2 on the backend interface: parameter layout, initialization, forward,
 * reverse-mode backward and forward-mode JVP.
 *
 * A network's parameters are one flat float vector (so Adam, Polyak, snapshots and checkpoints
 * are single vector operations). Layout, in order:
 *   timed nets only, for the t then the h embedder: W [F], Dense1 [2F x D] + [D], Dense2 [D x D] + [D]
 *   each hidden layer l: kernel [in_l x H], bias [H], LayerNorm scale [H], shift [H]
 *   head: kernel [H x out], bias [out]
 * Kernels are [in x out] row-major: y = x K + b. For timed nets in_0 = in_main + D, the input
 * being concat(x, cond) with cond = E_t(t) + E_h(h); the first layer is computed as
 * x K[0:in_main] + (cond K[in_main:] + b), so that a time embedding shared by all rows (m = 1) is
 * computed once and broadcast.
 */
#ifndef MFPO_NN_NET_H
#define MFPO_NN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "../backend/backend.h"

#define NN_MAX_DEPTH 8

typedef struct nn_dense {
    size_t in, out;
    size_t w, b; /* offsets of kernel and bias in the parameter vector */
} nn_dense;

typedef struct nn_embed {
    size_t freq; /* offset of W */
    nn_dense l1, l2;
} nn_embed;

typedef struct nn_layout {
    size_t in_main;  /* width of the direct input x */
    size_t out;      /* output width */
    int timed;       /* has the two time embedders */
    size_t fourier;  /* F */
    size_t time_dim; /* D */
    size_t hidden;   /* H */
    size_t depth;
    nn_embed emb[2];
    nn_dense hid[NN_MAX_DEPTH];
    size_t ln_scale[NN_MAX_DEPTH], ln_shift[NN_MAX_DEPTH];
    nn_dense head;
    size_t n_params;
} nn_layout;

void nn_layout_init(nn_layout *l, size_t in_main, size_t out, int timed, size_t hidden, size_t depth, size_t fourier,
                    size_t time_dim);

/* Fills host memory `p` (n_params floats) with docs/algorithm.md §2's initialization: Xavier-uniform kernels,
 * zero biases, LayerNorm scale 1 and shift 0, Fourier frequencies N(0, fourier_std^2). Draws come
 * from Philox stream `stream` under key `seed`. */
void nn_init_params(const nn_layout *l, float *p, float fourier_std, uint64_t seed, uint64_t stream);

/* Activations a network keeps between forward and backward/JVP, for up to `rows` rows and
 * `time_rows` embedding rows. A cache made with train = 0 keeps only what a forward needs. */
typedef struct nn_cache {
    const nn_layout *layout;
    size_t rows, time_rows;
    int train;
    float *block; /* the one allocation everything below points into */
    /* embedders */
    float *feats[2], *pre1[2], *act1[2], *cond, *condproj;
    /* trunk */
    float *pre[NN_MAX_DEPTH], *xhat[NN_MAX_DEPTH], *y[NN_MAX_DEPTH], *act[NN_MAX_DEPTH], *rstd[NN_MAX_DEPTH];
    float *out;
    /* tangents (train only) */
    float *tfeats, *tpre1, *tcond, *tcondproj, *ta, *tb, *tout;
    /* gradients (train only) */
    float *ga, *gb, *gcondproj, *gcond, *gact1, *gfeats;
    float *spare; /* n x H of scratch for a grouped forward (aliases a buffer free at that point) */
    /* the last forward's inputs */
    const float *x, *t, *h;
    size_t ldx, n, m;
} nn_cache;

/* Allocates a cache; returns 0 on success, -1 when the backend is out of memory. */
int nn_cache_init(nn_cache *c, be_backend *be, const nn_layout *l, size_t rows, size_t time_rows, int train);
void nn_cache_free(nn_cache *c, be_backend *be);

/* Forward pass on n rows of x (leading dimension ldx); timed nets read t and h (m values each,
 * m == 1 or m == n). The output is c->out (n x out). x, t and h must stay valid for backward/JVP. */
void nn_forward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t n, const float *x, size_t ldx,
                const float *t, const float *h, size_t m);

/*
 * Forward pass (inference caches too) where the input's columns [x_col, x_col + x_cols) come per row
 * from x (n rows, leading dimension ldx) and all other columns from `shared`, one row for each
 * `group` consecutive rows (n / group rows, leading dimension ld_shared). The other columns must be
 * one block: x_col == 0 (shared holds the columns after x) or x_col + x_cols == in_main (before).
 * The shared block's share of the first layer is then computed once per group: with K candidate
 * actions per state, the state's product is formed once, not K times. JVP and backward are not
 * available after a grouped forward with group > 1.
 */
void nn_forward_grouped(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t n, const float *x,
                        size_t ldx, size_t x_col, size_t x_cols, const float *shared, size_t ld_shared, size_t group,
                        const float *t, const float *h, size_t m);

/* Forward-mode derivative of the last forward along the tangent (x_dot, t_dot, h_dot): x_dot covers
 * the first dot_cols columns of x (n x dot_cols, the rest zero; NULL for all zero); t_dot and h_dot
 * are the same for every row. The output tangent is c->tout (n x out). Needs a train cache. */
void nn_jvp(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, const float *x_dot, size_t dot_cols,
            float t_dot, float h_dot);

/* Reverse pass of the last forward for output gradient g_out (n x out): writes the parameter
 * gradient g_params (overwritten) and, when non-NULL, the input gradients g_x (n x in_main) and
 * g_t, g_h (m each). Needs a train cache. */
void nn_backward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, const float *g_out, float *g_params,
                 float *g_x, float *g_t, float *g_h);

#endif
