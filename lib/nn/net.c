#include "net.h"

#include <math.h>
#include <string.h>

#include "../backend/kernels_common.h"

#define OPS (be->ops)

static size_t dense_place(nn_dense *d, size_t in, size_t out, size_t at)
{
    d->in = in;
    d->out = out;
    d->w = at;
    d->b = at + in * out;
    return d->b + out;
}

void nn_layout_init(nn_layout *l, size_t in_main, size_t out, int timed, size_t hidden, size_t depth, size_t fourier,
                    size_t time_dim)
{
    size_t at = 0;
    memset(l, 0, sizeof *l);
    l->in_main = in_main;
    l->out = out;
    l->timed = timed;
    l->fourier = fourier;
    l->time_dim = time_dim;
    l->hidden = hidden;
    l->depth = depth;
    if (timed)
        for (int e = 0; e < 2; e++) {
            l->emb[e].freq = at;
            at += fourier;
            at = dense_place(&l->emb[e].l1, 2 * fourier, time_dim, at);
            at = dense_place(&l->emb[e].l2, time_dim, time_dim, at);
        }
    for (size_t i = 0; i < depth; i++) {
        size_t in = i == 0 ? in_main + (timed ? time_dim : 0) : hidden;
        at = dense_place(&l->hid[i], in, hidden, at);
        l->ln_scale[i] = at;
        l->ln_shift[i] = at + hidden;
        at += 2 * hidden;
    }
    at = dense_place(&l->head, hidden, out, at);
    l->n_params = at;
}

static void xavier(const nn_dense *d, float *p, uint64_t seed, uint64_t stream)
{
    double lim = sqrt(6.0 / (double)(d->in + d->out));
    for (size_t i = 0; i < d->in * d->out; i++)
        p[d->w + i] = (float)((2.0 * be_uniform_at(seed, stream, d->w + i) - 1.0) * lim);
    for (size_t i = 0; i < d->out; i++) p[d->b + i] = 0.0f;
}

void nn_init_params(const nn_layout *l, float *p, float fourier_std, uint64_t seed, uint64_t stream)
{
    /* every parameter draws from its own position in the stream, so the values do not depend on
     * the order of the code below */
    if (l->timed)
        for (int e = 0; e < 2; e++) {
            for (size_t k = 0; k < l->fourier; k++)
                p[l->emb[e].freq + k] = fourier_std * be_normal_at(seed, stream, l->emb[e].freq + k);
            xavier(&l->emb[e].l1, p, seed, stream);
            xavier(&l->emb[e].l2, p, seed, stream);
        }
    for (size_t i = 0; i < l->depth; i++) {
        xavier(&l->hid[i], p, seed, stream);
        for (size_t j = 0; j < l->hidden; j++) {
            p[l->ln_scale[i] + j] = 1.0f;
            p[l->ln_shift[i] + j] = 0.0f;
        }
    }
    xavier(&l->head, p, seed, stream);
}

/* ------------------------------------------------------------------ cache */

typedef struct carver {
    float *base;
    size_t used;
    int dry;
} carver;

static float *carve(carver *cv, size_t n)
{
    float *p = cv->dry ? NULL : cv->base + cv->used;
    cv->used += (n + 15) & ~(size_t)15; /* 64-byte aligned pieces */
    return p;
}

static void cache_carve(nn_cache *c, carver *cv)
{
    const nn_layout *l = c->layout;
    size_t n = c->rows, m = c->time_rows, h = l->hidden, f = l->fourier, d = l->time_dim;
    if (l->timed) {
        for (int e = 0; e < 2; e++) {
            c->feats[e] = carve(cv, m * 2 * f);
            c->pre1[e] = carve(cv, m * d);
            c->act1[e] = carve(cv, m * d);
        }
        c->cond = carve(cv, m * d);
        c->condproj = carve(cv, m * h);
    }
    if (c->train) {
        for (size_t i = 0; i < l->depth; i++) {
            c->pre[i] = carve(cv, n * h);
            c->xhat[i] = carve(cv, n * h);
            c->y[i] = carve(cv, n * h);
            c->act[i] = carve(cv, n * h);
            c->rstd[i] = carve(cv, n);
        }
    } else {
        /* inference: two buffers, each layer's activation overwriting its pre-activation */
        float *ping = carve(cv, n * h), *pong = carve(cv, n * h);
        for (size_t i = 0; i < l->depth; i++) c->pre[i] = c->act[i] = (i % 2) ? pong : ping;
        c->spare = pong;
    }
    c->out = carve(cv, n * l->out);
    if (c->train) {
        if (l->timed) {
            c->tfeats = carve(cv, m * 2 * f);
            c->tpre1 = carve(cv, m * d);
            c->tcond = carve(cv, m * d);
            c->tcondproj = carve(cv, m * h);
            c->gcondproj = carve(cv, m * h);
            c->gcond = carve(cv, m * d);
            c->gact1 = carve(cv, m * d);
            c->gfeats = carve(cv, m * 2 * f);
        }
        c->ta = carve(cv, n * h);
        c->tb = carve(cv, n * h);
        c->tout = carve(cv, n * l->out);
        c->ga = carve(cv, n * h);
        c->gb = carve(cv, n * h);
        c->spare = c->ga;
    }
}

int nn_cache_init(nn_cache *c, be_backend *be, const nn_layout *l, size_t rows, size_t time_rows, int train)
{
    carver cv = { NULL, 0, 1 };
    memset(c, 0, sizeof *c);
    c->layout = l;
    c->rows = rows;
    c->time_rows = time_rows;
    c->train = train;
    cache_carve(c, &cv);
    c->block = OPS->alloc(be, cv.used * sizeof(float));
    if (!c->block) return -1;
    cv = (carver){ c->block, 0, 0 };
    cache_carve(c, &cv);
    return 0;
}

void nn_cache_free(nn_cache *c, be_backend *be)
{
    if (c->block) OPS->free(be, c->block);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ forward */

/* cond = E_t(t) + E_h(h); condproj = cond K0[in_main:] + b0 (m rows). */
static void embed_forward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t m)
{
    size_t f = l->fourier, d = l->time_dim, h = l->hidden;
    const nn_dense *first = &l->hid[0];
    for (int e = 0; e < 2; e++) {
        const nn_embed *E = &l->emb[e];
        OPS->fourier_fwd(be, m, f, e == 0 ? c->t : c->h, p + E->freq, c->feats[e]);
        OPS->gemm(be, 0, 0, m, d, 2 * f, 1.0f, c->feats[e], 2 * f, p + E->l1.w, d, 0.0f, c->pre1[e], d);
        OPS->bias_gelu_fwd(be, m, d, c->pre1[e], p + E->l1.b, c->act1[e]);
        OPS->gemm(be, 0, 0, m, d, d, 1.0f, c->act1[e], d, p + E->l2.w, d, e == 0 ? 0.0f : 1.0f, c->cond, d);
    }
    OPS->add_rows(be, m, d, c->cond, d, p + l->emb[0].l2.b, 1);
    OPS->add_rows(be, m, d, c->cond, d, p + l->emb[1].l2.b, 1);
    OPS->gemm(be, 0, 0, m, h, d, 1.0f, c->cond, d, p + first->w + l->in_main * h, h, 0.0f, c->condproj, h);
    OPS->add_rows(be, m, h, c->condproj, h, p + first->b, 1);
}

/* The first layer's input product, pre[0] = x K[0:in_main] (in_main = x_col + x_cols + the shared
 * block's width). */
static void first_layer_product(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t n,
                                const float *x, size_t ldx, size_t x_col, size_t x_cols, const float *shared,
                                size_t ld_shared, size_t group)
{
    size_t H = l->hidden;
    const float *K = p + l->hid[0].w;
    if (!shared || x_cols == l->in_main) {
        OPS->gemm(be, 0, 0, n, H, l->in_main, 1.0f, x, ldx, K, H, 0.0f, c->pre[0], H);
        return;
    }
    /* shared rows once per group, spread to their rows, then the per-row columns accumulated */
    size_t s_col = x_col == 0 ? x_cols : 0, s_cols = l->in_main - x_cols, groups = n / group;
    float *tmp = c->spare;
    OPS->gemm(be, 0, 0, groups, H, s_cols, 1.0f, shared, ld_shared, K + s_col * H, H, 0.0f, tmp, H);
    OPS->copy_rows(be, n, H, c->pre[0], H, tmp, H, group);
    OPS->gemm(be, 0, 0, n, H, x_cols, 1.0f, x, ldx, K + x_col * H, H, 1.0f, c->pre[0], H);
}

void nn_forward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t n, const float *x, size_t ldx,
                const float *t, const float *h, size_t m)
{
    nn_forward_grouped(be, l, p, c, n, x, ldx, 0, l->in_main, NULL, 0, 1, t, h, m);
}

void nn_forward_grouped(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, size_t n, const float *x,
                        size_t ldx, size_t x_col, size_t x_cols, const float *shared, size_t ld_shared, size_t group,
                        const float *t, const float *h, size_t m)
{
    size_t H = l->hidden;
    const float *add0 = p + l->hid[0].b;
    size_t madd = 1;
    c->x = x;
    c->ldx = ldx;
    c->t = t;
    c->h = h;
    c->n = n;
    c->m = m;
    if (l->timed) {
        embed_forward(be, l, p, c, m);
        add0 = c->condproj; /* already holds b0 */
        madd = m;
    }
    for (size_t i = 0; i < l->depth; i++) {
        if (i == 0)
            first_layer_product(be, l, p, c, n, x, ldx, x_col, x_cols, shared, ld_shared, group);
        else
            OPS->gemm(be, 0, 0, n, H, H, 1.0f, c->act[i - 1], H, p + l->hid[i].w, H, 0.0f, c->pre[i], H);
        OPS->ln_gelu_fwd(be, n, H, c->pre[i], i == 0 ? add0 : p + l->hid[i].b, i == 0 ? madd : 1, p + l->ln_scale[i],
                         p + l->ln_shift[i], c->train ? c->xhat[i] : NULL, c->train ? c->rstd[i] : NULL,
                         c->train ? c->y[i] : NULL, c->act[i]);
    }
    OPS->gemm(be, 0, 0, n, l->out, H, 1.0f, c->act[l->depth - 1], H, p + l->head.w, l->out, 0.0f, c->out, l->out);
    OPS->add_rows(be, n, l->out, c->out, l->out, p + l->head.b, 1);
}

/* ------------------------------------------------------------------ JVP */

void nn_jvp(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, const float *x_dot, size_t dot_cols,
            float t_dot, float h_dot)
{
    size_t n = c->n, m = c->m, H = l->hidden, f = l->fourier, d = l->time_dim;
    int have_tcond = 0;
    float *cur = c->ta, *nxt = c->tb;
    if (l->timed && (t_dot != 0.0f || h_dot != 0.0f)) {
        for (int e = 0; e < 2; e++) {
            const nn_embed *E = &l->emb[e];
            float xd = e == 0 ? t_dot : h_dot;
            if (xd == 0.0f) continue;
            OPS->fourier_jvp(be, m, f, e == 0 ? c->t : c->h, p + E->freq, xd, c->tfeats);
            OPS->gemm(be, 0, 0, m, d, 2 * f, 1.0f, c->tfeats, 2 * f, p + E->l1.w, d, 0.0f, c->tpre1, d);
            OPS->gelu_jvp(be, m, d, c->tpre1, c->pre1[e], c->tpre1);
            OPS->gemm(be, 0, 0, m, d, d, 1.0f, c->tpre1, d, p + E->l2.w, d, have_tcond ? 1.0f : 0.0f, c->tcond, d);
            have_tcond = 1;
        }
        OPS->gemm(be, 0, 0, m, H, d, 1.0f, c->tcond, d, p + l->hid[0].w + l->in_main * H, H, 0.0f, c->tcondproj, H);
    }
    if (x_dot && dot_cols)
        OPS->gemm(be, 0, 0, n, H, dot_cols, 1.0f, x_dot, dot_cols, p + l->hid[0].w, H, 0.0f, cur, H);
    else
        OPS->fill(be, cur, 0.0f, n * H);
    if (have_tcond) OPS->add_rows(be, n, H, cur, H, c->tcondproj, m);
    OPS->ln_gelu_jvp(be, n, H, cur, c->xhat[0], c->rstd[0], c->y[0], p + l->ln_scale[0], cur);
    for (size_t i = 1; i < l->depth; i++) {
        OPS->gemm(be, 0, 0, n, H, H, 1.0f, cur, H, p + l->hid[i].w, H, 0.0f, nxt, H);
        OPS->ln_gelu_jvp(be, n, H, nxt, c->xhat[i], c->rstd[i], c->y[i], p + l->ln_scale[i], nxt);
        float *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    OPS->gemm(be, 0, 0, n, l->out, H, 1.0f, cur, H, p + l->head.w, l->out, 0.0f, c->tout, l->out);
}

/* ------------------------------------------------------------------ backward */

/* Reverse through both embedders from g_cond (m x D). */
static void embed_backward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, float *g, float *g_t,
                           float *g_h)
{
    size_t m = c->m, f = l->fourier, d = l->time_dim;
    for (int e = 0; e < 2; e++) {
        const nn_embed *E = &l->emb[e];
        OPS->fold_rows(be, m, d, c->gcond, d, g + E->l2.b, 1, 0);
        OPS->gemm(be, 1, 0, d, d, m, 1.0f, c->act1[e], d, c->gcond, d, 0.0f, g + E->l2.w, d);
        OPS->gemm(be, 0, 1, m, d, d, 1.0f, c->gcond, d, p + E->l2.w, d, 0.0f, c->gact1, d);
        OPS->gelu_bwd(be, m, d, c->gact1, c->pre1[e], c->gact1);
        OPS->fold_rows(be, m, d, c->gact1, d, g + E->l1.b, 1, 0);
        OPS->gemm(be, 1, 0, 2 * f, d, m, 1.0f, c->feats[e], 2 * f, c->gact1, d, 0.0f, g + E->l1.w, d);
        OPS->gemm(be, 0, 1, m, 2 * f, d, 1.0f, c->gact1, d, p + E->l1.w, d, 0.0f, c->gfeats, 2 * f);
        OPS->fourier_bwd(be, m, f, e == 0 ? c->t : c->h, p + E->freq, c->gfeats, g + E->freq, e == 0 ? g_t : g_h);
    }
}

void nn_backward(be_backend *be, const nn_layout *l, const float *p, nn_cache *c, const float *g_out, float *g_params,
                 float *g_x, float *g_t, float *g_h)
{
    size_t n = c->n, m = c->m, H = l->hidden, O = l->out, d = l->time_dim;
    const size_t last = l->depth - 1;
    float *cur = c->ga, *nxt = c->gb;
    OPS->fill(be, g_params, 0.0f, l->n_params);
    /* head */
    OPS->gemm(be, 1, 0, H, O, n, 1.0f, c->act[last], H, g_out, O, 0.0f, g_params + l->head.w, O);
    OPS->fold_rows(be, n, O, g_out, O, g_params + l->head.b, 1, 0);
    OPS->gemm(be, 0, 1, n, H, O, 1.0f, g_out, O, p + l->head.w, O, 0.0f, cur, H);
    for (size_t i = l->depth; i-- > 0;) {
        OPS->ln_gelu_bwd(be, n, H, cur, c->xhat[i], c->rstd[i], c->y[i], p + l->ln_scale[i], cur,
                         g_params + l->ln_scale[i], g_params + l->ln_shift[i]);
        if (i > 0) {
            OPS->gemm(be, 1, 0, H, H, n, 1.0f, c->act[i - 1], H, cur, H, 0.0f, g_params + l->hid[i].w, H);
            OPS->fold_rows(be, n, H, cur, H, g_params + l->hid[i].b, 1, 0);
            OPS->gemm(be, 0, 1, n, H, H, 1.0f, cur, H, p + l->hid[i].w, H, 0.0f, nxt, H);
            float *tmp = cur;
            cur = nxt;
            nxt = tmp;
            continue;
        }
        /* first layer: input x, and for timed nets the broadcast condition */
        OPS->gemm(be, 1, 0, l->in_main, H, n, 1.0f, c->x, c->ldx, cur, H, 0.0f, g_params + l->hid[0].w, H);
        if (g_x) OPS->gemm(be, 0, 1, n, l->in_main, H, 1.0f, cur, H, p + l->hid[0].w, H, 0.0f, g_x, l->in_main);
        if (!l->timed) {
            OPS->fold_rows(be, n, H, cur, H, g_params + l->hid[0].b, 1, 0);
            continue;
        }
        const float *gcp = cur;
        if (m != n) {
            OPS->fold_rows(be, n, H, cur, H, c->gcondproj, m, 0);
            gcp = c->gcondproj;
        }
        OPS->fold_rows(be, m, H, gcp, H, g_params + l->hid[0].b, 1, 0);
        OPS->gemm(be, 1, 0, d, H, m, 1.0f, c->cond, d, gcp, H, 0.0f, g_params + l->hid[0].w + l->in_main * H, H);
        OPS->gemm(be, 0, 1, m, d, H, 1.0f, gcp, H, p + l->hid[0].w + l->in_main * H, H, 0.0f, c->gcond, d);
        embed_backward(be, l, p, c, g_params, g_t, g_h);
    }
}
