/*
 * Layer and network derivatives of lib/nn and the backend's layer passes against central finite
 * differences of an independent double-precision implementation written here from docs/algorithm.md §2
 * and net.h's documented parameter layout.
 *
 * Every derivative the library computes in float32 (backward, JVP) is compared with a central
 * difference, in double, of the double implementation below: (f(x + s) - f(x - s)) / 2s with
 * s = FD_STEP. In double that difference is accurate to ~1e-9 relative (truncation s^2 f'''/6 with
 * |f'''| <= ~1e3 here, round-off 1e-16 |f| / s), far below float32's resolution, so the
 * comparisons measure the library's float32 error only. Forward outputs are compared with the
 * double implementation directly.
 *
 * Tolerances: relerr = |lib - ref| / max(|ref|, FLOOR) <= RTOL.
 *   - FLOOR = 1e-2: the quantities checked are O(0.1..10); an element that is a cancellation down to
 *     below 1e-2 can only be resolved by float32 to an absolute ~1e-7 x (sum of |terms|), so it is
 *     judged absolutely against 1e-2 instead of relatively.
 *   - RTOL_OP = 1e-4 for a single backend op: a handful of float32 operations per element. The
 *     worst measured is ~1e-5, in gelu' (and GELU) at x ~ -4, where 1 + tanh(.) cancels: float32's
 *     absolute ~1e-7 there, over FLOOR. 1e-4 is ~10x that, while a wrong formula (a constant, a
 *     dropped term, a factor) is off by >= 1e-3 (see the mutations below).
 *   - RTOL_NET = 3e-4 for whole networks: float32 error accumulates over the embedders, two or three
 *     LayerNorms (whose Jacobian amplifies errors by rstd) and the sums over rows of the parameter
 *     gradient; the worst measured is ~3e-5, so 3e-4 is ~10x that.
 * Each check prints `WORST <check> <relerr>`.
 *
 * Building with -DREF_MUTATE=k (1..6) changes one formula of the double implementation: 1 GELU's
 * cubic coefficient 0.044715 -> 0.046, 2 LayerNorm variance over h - 1, 3 Fourier 2 pi -> 2 pi
 * 1.001, 4 E_h(h) halved in cond, 5 the head's bias replaced by layer 0's, 6 LayerNorm shift
 * dropped. Every check here fails under at least one of them (verified when the suite was written),
 * so the tolerances are tight enough to catch a wrong formula on either side.
 */
#include "engine_common.h"

#include "nn/net.h"

#ifndef REF_MUTATE
#define REF_MUTATE 0
#endif

#define FD_STEP 1e-6
#define RTOL_OP 1e-4
#define RTOL_NET 3e-4
#define FLOOR 1e-2
#define REF_MAX 64 /* widest vector of the reference (in_0, 2F, D, H, out) */

/* ------------------------------------------------------------------ double reference */

static double ref_gelu(double x)
{
    const double k = sqrt(2.0 / TEST_PI);
    const double c = REF_MUTATE == 1 ? 0.046 : 0.044715;
    return 0.5 * x * (1.0 + tanh(k * (x + c * x * x * x)));
}

/* act = GELU(LayerNorm(pre) * scale + shift) for one row; pre already includes the added row. */
static void ref_ln_gelu(size_t h, const double *pre, const double *scale, const double *shift, double *act)
{
    double mean = 0.0, var = 0.0;
    for (size_t j = 0; j < h; j++) mean += pre[j];
    mean /= (double)h;
    for (size_t j = 0; j < h; j++) var += (pre[j] - mean) * (pre[j] - mean);
    var /= REF_MUTATE == 2 ? (double)(h - 1) : (double)h;
    double rstd = 1.0 / sqrt(var + 1e-6);
    for (size_t j = 0; j < h; j++)
        act[j] = ref_gelu(scale[j] * (pre[j] - mean) * rstd + (REF_MUTATE == 6 ? 0.0 : shift[j]));
}

/* [cos(2 pi x w_k)]_k, [sin(2 pi x w_k)]_k */
static void ref_fourier(size_t f, double x, const double *w, double *out)
{
    const double two_pi = REF_MUTATE == 3 ? 2.0 * TEST_PI * 1.001 : 2.0 * TEST_PI;
    for (size_t k = 0; k < f; k++) {
        out[k] = cos(two_pi * x * w[k]);
        out[f + k] = sin(two_pi * x * w[k]);
    }
}

/* The parameter layout as net.h documents it, computed here independently of nn_layout_init. */
typedef struct ref_layout {
    size_t in_main, out, hidden, depth, fourier, time_dim;
    int timed;
    size_t freq[2], l1w[2], l1b[2], l2w[2], l2b[2];
    size_t in[NN_MAX_DEPTH], w[NN_MAX_DEPTH], b[NN_MAX_DEPTH], scale[NN_MAX_DEPTH], shift[NN_MAX_DEPTH];
    size_t head_w, head_b, n_params;
} ref_layout;

static void ref_layout_init(ref_layout *r, size_t in_main, size_t out, int timed, size_t hidden, size_t depth,
                            size_t fourier, size_t time_dim)
{
    size_t at = 0;
    memset(r, 0, sizeof *r);
    r->in_main = in_main;
    r->out = out;
    r->timed = timed;
    r->hidden = hidden;
    r->depth = depth;
    r->fourier = fourier;
    r->time_dim = time_dim;
    if (timed)
        for (int e = 0; e < 2; e++) { /* t first, then h: W [F], Dense1 [2F x D] + [D], Dense2 [D x D] + [D] */
            r->freq[e] = at;
            at += fourier;
            r->l1w[e] = at;
            at += 2 * fourier * time_dim;
            r->l1b[e] = at;
            at += time_dim;
            r->l2w[e] = at;
            at += time_dim * time_dim;
            r->l2b[e] = at;
            at += time_dim;
        }
    for (size_t l = 0; l < depth; l++) { /* kernel [in x H], bias [H], scale [H], shift [H] */
        r->in[l] = l == 0 ? in_main + (timed ? time_dim : 0) : hidden;
        r->w[l] = at;
        at += r->in[l] * hidden;
        r->b[l] = at;
        at += hidden;
        r->scale[l] = at;
        at += hidden;
        r->shift[l] = at;
        at += hidden;
    }
    r->head_w = at;
    at += hidden * out;
    r->head_b = at;
    at += out;
    r->n_params = at;
}

/* y = x K + b for one row; K is [in x out] row-major. */
static void ref_dense(size_t in, size_t out, const double *x, const double *k, const double *b, double *y)
{
    for (size_t o = 0; o < out; o++) {
        double s = b[o];
        for (size_t i = 0; i < in; i++) s += x[i] * k[i * out + o];
        y[o] = s;
    }
}

/* E(x) = Dense2(GELU(Dense1([cos, sin]))) of embedder e, added into acc (D). */
static void ref_embed_add(const ref_layout *r, const double *p, int e, double x, double *acc)
{
    double feats[REF_MAX], a[REF_MAX], o[REF_MAX];
    size_t f = r->fourier, d = r->time_dim;
    ref_fourier(f, x, p + r->freq[e], feats);
    ref_dense(2 * f, d, feats, p + r->l1w[e], p + r->l1b[e], a);
    for (size_t j = 0; j < d; j++) a[j] = ref_gelu(a[j]);
    ref_dense(d, d, a, p + r->l2w[e], p + r->l2b[e], o);
    for (size_t j = 0; j < d; j++) acc[j] += (REF_MUTATE == 4 && e == 1) ? 0.5 * o[j] : o[j];
}

/* The whole network on n rows (x: leading dimension ldx; t, h: m values, row i uses i mod m). */
static void ref_forward(const ref_layout *r, const double *p, size_t n, const double *x, size_t ldx, const double *t,
                        const double *h, size_t m, double *out)
{
    double in[REF_MAX], pre[REF_MAX], act[REF_MAX];
    size_t H = r->hidden;
    for (size_t i = 0; i < n; i++) {
        size_t width = r->in_main;
        memcpy(in, x + i * ldx, r->in_main * sizeof(double));
        if (r->timed) {
            double *cond = in + r->in_main; /* input = concat(x, cond), cond = E_t(t) + E_h(h) */
            memset(cond, 0, r->time_dim * sizeof(double));
            ref_embed_add(r, p, 0, t[i % m], cond);
            ref_embed_add(r, p, 1, h[i % m], cond);
            width += r->time_dim;
        }
        for (size_t l = 0; l < r->depth; l++) {
            ref_dense(l == 0 ? width : H, H, l == 0 ? in : act, p + r->w[l], p + r->b[l], pre);
            ref_ln_gelu(H, pre, p + r->scale[l], p + r->shift[l], act);
        }
        ref_dense(H, r->out, act, p + r->head_w, REF_MUTATE == 5 ? p + r->b[0] : p + r->head_b, out + i * r->out);
    }
}

/* sum(W_out . out) */
static double ref_loss(const ref_layout *r, const double *p, size_t n, const double *x, size_t ldx, const double *t,
                       const double *h, size_t m, const double *wout)
{
    double out[16 * REF_MAX], s = 0.0;
    ref_forward(r, p, n, x, ldx, t, h, m, out);
    for (size_t i = 0; i < n * r->out; i++) s += wout[i] * out[i];
    return s;
}

/* ------------------------------------------------------------------ buffers */

static float *dev_from(be_backend *be, const float *host, size_t n)
{
    float *d = be->ops->alloc(be, n * sizeof(float));
    assert_non_null(d);
    if (host) be->ops->upload(be, d, host, n * sizeof(float));
    return d;
}

static void to_host(be_backend *be, float *host, const float *dev, size_t n)
{
    be->ops->download(be, host, dev, n * sizeof(float));
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* ------------------------------------------------------------------ single ops */

static void test_gelu_ops(void **state)
{
    (void)state;
    enum { N = 4, H = 9 };
    test_rng rng = { 11 };
    float pre[N * H], g[N * H], bias[H], got[N * H], act[N * H], pre_b[N * H];
    double want[N * H];
    be_backend *be = test_backend();
    CHECKS_BEGIN();
    test_fill(&rng, pre, N * H, -4.0, 4.0);
    test_fill(&rng, g, N * H, -1.0, 1.0);
    test_fill(&rng, bias, H, -0.5, 0.5);
    float *dpre = dev_from(be, pre, N * H), *dg = dev_from(be, g, N * H), *dout = dev_from(be, NULL, N * H);
    float *dbias = dev_from(be, bias, H), *dact = dev_from(be, NULL, N * H);

    /* bias_gelu_fwd (the embedders' activation): pre += bias, act = gelu(pre) */
    be->ops->bias_gelu_fwd(be, N, H, dpre, dbias, dact);
    to_host(be, act, dact, N * H);
    to_host(be, pre_b, dpre, N * H);
    for (size_t i = 0; i < N * H; i++) want[i] = ref_gelu((double)pre[i] + (double)bias[i % H]);
    check_close("bias_gelu_fwd.act", act, want, N * H, RTOL_OP, FLOOR);

    /* gelu_bwd: g_pre = g_act * gelu'(pre) */
    be->ops->gelu_bwd(be, N, H, dg, dpre, dout);
    to_host(be, got, dout, N * H);
    for (size_t i = 0; i < N * H; i++) {
        double x = pre_b[i];
        want[i] = g[i] * (ref_gelu(x + FD_STEP) - ref_gelu(x - FD_STEP)) / (2.0 * FD_STEP);
    }
    check_close("gelu_bwd.g_pre", got, want, N * H, RTOL_OP, FLOOR);

    /* gelu_jvp: t_act = gelu'(pre) t_pre, with g as the tangent; then in place (aliasing) */
    be->ops->gelu_jvp(be, N, H, dg, dpre, dout);
    to_host(be, got, dout, N * H);
    check_close("gelu_jvp.t_act", got, want, N * H, RTOL_OP, FLOOR);
    be->ops->gelu_jvp(be, N, H, dg, dpre, dg);
    to_host(be, got, dg, N * H);
    check_close("gelu_jvp.t_act_aliased", got, want, N * H, RTOL_OP, FLOOR);

    be->ops->free(be, dpre);
    be->ops->free(be, dg);
    be->ops->free(be, dout);
    be->ops->free(be, dbias);
    be->ops->free(be, dact);
    be->ops->destroy(be);
    CHECKS_END();
}

/* act of all rows of the fused LN pass in double: row i is ref_ln_gelu(pre_i + add_{i mod m}). */
static void ref_ln_rows(size_t n, size_t h, const double *pre, const double *add, size_t m, const double *scale,
                        const double *shift, double *act)
{
    double row[REF_MAX];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < h; j++) row[j] = pre[i * h + j] + add[(i % m) * h + j];
        ref_ln_gelu(h, row, scale, shift, act + i * h);
    }
}

static double ref_ln_loss(size_t n, size_t h, const double *pre, const double *add, size_t m, const double *scale,
                          const double *shift, const double *g)
{
    double act[8 * REF_MAX], s = 0.0;
    ref_ln_rows(n, h, pre, add, m, scale, shift, act);
    for (size_t i = 0; i < n * h; i++) s += g[i] * act[i];
    return s;
}

static void run_ln_gelu(size_t m, const char *tag)
{
    enum { N = 6, H = 8 };
    char name[96];
    test_rng rng = { 100 + m };
    float pre[N * H], add[N * H], scale[H], shift[H], g[N * H], tp[N * H], gs0[H], gh0[H];
    float got[N * H], gs[H], gh[H], act_alias[N * H];
    double want[N * H], wscale[H], wshift[H];
    be_backend *be = test_backend();
    test_fill(&rng, pre, N * H, -2.0, 2.0);
    test_fill(&rng, add, m * H, -1.0, 1.0);
    test_fill(&rng, scale, H, 0.5, 1.5);
    scale[1] = -scale[1]; /* a negative scale too */
    test_fill(&rng, shift, H, -0.5, 0.5);
    test_fill(&rng, g, N * H, -1.0, 1.0);
    test_fill(&rng, tp, N * H, -1.0, 1.0);
    test_fill(&rng, gs0, H, -1.0, 1.0); /* g_scale and g_shift accumulate onto these */
    test_fill(&rng, gh0, H, -1.0, 1.0);
    double *Dpre = to_double(pre, N * H), *Dadd = to_double(add, m * H), *Dscale = to_double(scale, H);
    double *Dshift = to_double(shift, H), *Dg = to_double(g, N * H);

    float *dpre = dev_from(be, pre, N * H), *dadd = dev_from(be, add, m * H), *dscale = dev_from(be, scale, H);
    float *dshift = dev_from(be, shift, H), *dxhat = dev_from(be, NULL, N * H), *drstd = dev_from(be, NULL, N);
    float *dy = dev_from(be, NULL, N * H), *dact = dev_from(be, NULL, N * H), *dg = dev_from(be, g, N * H);
    float *dgp = dev_from(be, NULL, N * H), *dgs = dev_from(be, gs0, H), *dgh = dev_from(be, gh0, H);
    float *dtp = dev_from(be, tp, N * H), *dta = dev_from(be, NULL, N * H), *dpre2 = dev_from(be, pre, N * H);

    /* forward, training form, and inference form with act aliasing pre */
    be->ops->ln_gelu_fwd(be, N, H, dpre, dadd, m, dscale, dshift, dxhat, drstd, dy, dact);
    be->ops->ln_gelu_fwd(be, N, H, dpre2, dadd, m, dscale, dshift, NULL, NULL, NULL, dpre2);
    to_host(be, got, dact, N * H);
    to_host(be, act_alias, dpre2, N * H);
    ref_ln_rows(N, H, Dpre, Dadd, m, Dscale, Dshift, want);
    snprintf(name, sizeof name, "ln_gelu_fwd%s.act", tag);
    check_close(name, got, want, N * H, RTOL_OP, FLOOR);
    snprintf(name, sizeof name, "ln_gelu_fwd%s.act_inplace", tag);
    check_close(name, act_alias, want, N * H, RTOL_OP, FLOOR);

    /* backward of L = sum(g . act) */
    be->ops->ln_gelu_bwd(be, N, H, dg, dxhat, drstd, dy, dscale, dgp, dgs, dgh);
    for (size_t k = 0; k < N * H; k++) {
        double keep = Dpre[k];
        Dpre[k] = keep + FD_STEP;
        double lp = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dpre[k] = keep - FD_STEP;
        double lm = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dpre[k] = keep;
        want[k] = (lp - lm) / (2.0 * FD_STEP);
    }
    for (size_t j = 0; j < H; j++) {
        double keep = Dscale[j];
        Dscale[j] = keep + FD_STEP;
        double lp = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dscale[j] = keep - FD_STEP;
        double lm = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dscale[j] = keep;
        wscale[j] = gs0[j] + (lp - lm) / (2.0 * FD_STEP);
        keep = Dshift[j];
        Dshift[j] = keep + FD_STEP;
        lp = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dshift[j] = keep - FD_STEP;
        lm = ref_ln_loss(N, H, Dpre, Dadd, m, Dscale, Dshift, Dg);
        Dshift[j] = keep;
        wshift[j] = gh0[j] + (lp - lm) / (2.0 * FD_STEP);
    }
    to_host(be, got, dgp, N * H);
    to_host(be, gs, dgs, H);
    to_host(be, gh, dgh, H);
    snprintf(name, sizeof name, "ln_gelu_bwd%s.g_pre", tag);
    check_close(name, got, want, N * H, RTOL_OP, FLOOR);
    snprintf(name, sizeof name, "ln_gelu_bwd%s.g_scale", tag);
    check_close(name, gs, wscale, H, RTOL_OP, FLOOR);
    snprintf(name, sizeof name, "ln_gelu_bwd%s.g_shift", tag);
    check_close(name, gh, wshift, H, RTOL_OP, FLOOR);
    /* g_pre aliasing g_act gives the same */
    be->ops->ln_gelu_bwd(be, N, H, dg, dxhat, drstd, dy, dscale, dg, dgs, dgh);
    to_host(be, got, dg, N * H);
    snprintf(name, sizeof name, "ln_gelu_bwd%s.g_pre_aliased", tag);
    check_close(name, got, want, N * H, RTOL_OP, FLOOR);

    /* JVP along t_pre: central difference of act along the direction */
    {
        double *Dtp = to_double(tp, N * H), *Dp = malloc(N * H * sizeof(double)), *Dm = malloc(N * H * sizeof(double));
        double *ap = malloc(N * H * sizeof(double)), *am = malloc(N * H * sizeof(double));
        assert_true(Dp && Dm && ap && am);
        for (size_t k = 0; k < N * H; k++) {
            Dp[k] = Dpre[k] + FD_STEP * Dtp[k];
            Dm[k] = Dpre[k] - FD_STEP * Dtp[k];
        }
        ref_ln_rows(N, H, Dp, Dadd, m, Dscale, Dshift, ap);
        ref_ln_rows(N, H, Dm, Dadd, m, Dscale, Dshift, am);
        for (size_t k = 0; k < N * H; k++) want[k] = (ap[k] - am[k]) / (2.0 * FD_STEP);
        be->ops->ln_gelu_jvp(be, N, H, dtp, dxhat, drstd, dy, dscale, dta);
        to_host(be, got, dta, N * H);
        snprintf(name, sizeof name, "ln_gelu_jvp%s.t_act", tag);
        check_close(name, got, want, N * H, RTOL_OP, FLOOR);
        be->ops->ln_gelu_jvp(be, N, H, dtp, dxhat, drstd, dy, dscale, dtp);
        to_host(be, got, dtp, N * H);
        snprintf(name, sizeof name, "ln_gelu_jvp%s.t_act_aliased", tag);
        check_close(name, got, want, N * H, RTOL_OP, FLOOR);
        free(Dtp);
        free(Dp);
        free(Dm);
        free(ap);
        free(am);
    }

    float *bufs[] = { dpre, dadd, dscale, dshift, dxhat, drstd, dy, dact, dg, dgp, dgs, dgh, dtp, dta, dpre2 };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->ops->free(be, bufs[i]);
    free(Dpre);
    free(Dadd);
    free(Dscale);
    free(Dshift);
    free(Dg);
    be->ops->destroy(be);
}

static void test_ln_gelu_ops(void **state)
{
    (void)state;
    CHECKS_BEGIN();
    run_ln_gelu(1, "[m=1]");
    run_ln_gelu(6, "[m=n]");
    CHECKS_END();
}

static double ref_fourier_loss(size_t n, size_t f, const double *x, const double *w, const double *g)
{
    double o[REF_MAX], s = 0.0;
    for (size_t i = 0; i < n; i++) {
        ref_fourier(f, x[i], w, o);
        for (size_t k = 0; k < 2 * f; k++) s += g[i * 2 * f + k] * o[k];
    }
    return s;
}

static void test_fourier_ops(void **state)
{
    (void)state;
    enum { N = 6, F = 5 };
    const float xdot = 0.7f;
    test_rng rng = { 7 };
    float x[N], w[F], g[N * 2 * F], out[N * 2 * F], gw[F], gx[N], gw2[F];
    double want[N * 2 * F], o[2 * F], op[2 * F], om[2 * F];
    be_backend *be = test_backend();
    CHECKS_BEGIN();
    test_fill(&rng, x, N, 0.0, 1.0);
    test_fill(&rng, w, F, -1.5, 1.5);
    test_fill(&rng, g, N * 2 * F, -1.0, 1.0);
    double *Dx = to_double(x, N), *Dw = to_double(w, F), *Dg = to_double(g, N * 2 * F);
    float *dx = dev_from(be, x, N), *dw = dev_from(be, w, F), *dg = dev_from(be, g, N * 2 * F);
    float *dout = dev_from(be, NULL, N * 2 * F), *dgw = dev_from(be, NULL, F), *dgx = dev_from(be, NULL, N);
    be->ops->fill(be, dgw, 123.0f, F); /* gw is overwritten, not accumulated */

    be->ops->fourier_fwd(be, N, F, dx, dw, dout);
    to_host(be, out, dout, N * 2 * F);
    for (size_t i = 0; i < N; i++) {
        ref_fourier(F, Dx[i], Dw, o);
        memcpy(want + i * 2 * F, o, sizeof o);
    }
    check_close("fourier_fwd.out", out, want, N * 2 * F, RTOL_OP, FLOOR);

    be->ops->fourier_jvp(be, N, F, dx, dw, xdot, dout);
    to_host(be, out, dout, N * 2 * F);
    for (size_t i = 0; i < N; i++) {
        ref_fourier(F, Dx[i] + FD_STEP * xdot, Dw, op);
        ref_fourier(F, Dx[i] - FD_STEP * xdot, Dw, om);
        for (size_t k = 0; k < 2 * F; k++) want[i * 2 * F + k] = (op[k] - om[k]) / (2.0 * FD_STEP);
    }
    check_close("fourier_jvp.out_dot", out, want, N * 2 * F, RTOL_OP, FLOOR);

    be->ops->fourier_bwd(be, N, F, dx, dw, dg, dgw, dgx);
    to_host(be, gw, dgw, F);
    to_host(be, gx, dgx, N);
    for (size_t k = 0; k < F; k++) {
        double keep = Dw[k];
        Dw[k] = keep + FD_STEP;
        double lp = ref_fourier_loss(N, F, Dx, Dw, Dg);
        Dw[k] = keep - FD_STEP;
        double lm = ref_fourier_loss(N, F, Dx, Dw, Dg);
        Dw[k] = keep;
        want[k] = (lp - lm) / (2.0 * FD_STEP);
    }
    check_close("fourier_bwd.gw", gw, want, F, RTOL_OP, FLOOR);
    be->ops->fourier_bwd(be, N, F, dx, dw, dg, dgw, NULL); /* gx optional */
    to_host(be, gw2, dgw, F);
    check_close("fourier_bwd.gw_without_gx", gw2, want, F, RTOL_OP, FLOOR);
    for (size_t i = 0; i < N; i++) {
        double keep = Dx[i];
        Dx[i] = keep + FD_STEP;
        double lp = ref_fourier_loss(N, F, Dx, Dw, Dg);
        Dx[i] = keep - FD_STEP;
        double lm = ref_fourier_loss(N, F, Dx, Dw, Dg);
        Dx[i] = keep;
        want[i] = (lp - lm) / (2.0 * FD_STEP);
    }
    check_close("fourier_bwd.gx", gx, want, N, RTOL_OP, FLOOR);

    be->ops->free(be, dx);
    be->ops->free(be, dw);
    be->ops->free(be, dg);
    be->ops->free(be, dout);
    be->ops->free(be, dgw);
    be->ops->free(be, dgx);
    free(Dx);
    free(Dw);
    free(Dg);
    be->ops->destroy(be);
    CHECKS_END();
}

/* ------------------------------------------------------------------ networks */

typedef struct net_case {
    const char *name;
    int timed;
    size_t in_main, out, hidden, depth, fourier, time_dim;
    size_t n, m, ldx, dot_cols;
    size_t spare; /* the caches hold this many more rows (and time rows) than the forward uses */
} net_case;

/* Central difference of the reference output (n x out) along (xd, td, hd); xd is n x dot_cols. */
static void ref_out_tangent(const ref_layout *r, const double *p, size_t n, const double *x, size_t ldx,
                            const double *t, const double *h, size_t m, const double *xd, size_t dot_cols, double td,
                            double hd, double *tangent)
{
    double *xs = malloc(n * ldx * sizeof(double)), *op = malloc(n * r->out * sizeof(double));
    double *om = malloc(n * r->out * sizeof(double)), ts[16], hs[16];
    assert_true(xs && op && om && m <= 16);
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        double s = sgn * FD_STEP;
        memcpy(xs, x, n * ldx * sizeof(double));
        if (xd)
            for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < dot_cols; c++) xs[i * ldx + c] += s * xd[i * dot_cols + c];
        for (size_t k = 0; k < m; k++) {
            ts[k] = t ? t[k] + s * td : 0.0;
            hs[k] = h ? h[k] + s * hd : 0.0;
        }
        ref_forward(r, p, n, xs, ldx, ts, hs, m, sgn < 0 ? om : op);
    }
    for (size_t i = 0; i < n * r->out; i++) tangent[i] = (op[i] - om[i]) / (2.0 * FD_STEP);
    free(xs);
    free(op);
    free(om);
}

static void run_net_case(const net_case *nc)
{
    char name[128];
    test_rng rng = { 1000 + nc->n * 31 + nc->m * 7 + (size_t)nc->timed };
    be_backend *be = test_backend();
    nn_layout lay;
    ref_layout rl;
    size_t n = nc->n, m = nc->timed ? nc->m : 1, O = nc->out, ldx = nc->ldx, in = nc->in_main;
    nn_layout_init(&lay, in, O, nc->timed, nc->hidden, nc->depth, nc->fourier, nc->time_dim);
    ref_layout_init(&rl, in, O, nc->timed, nc->hidden, nc->depth, nc->fourier, nc->time_dim);
    assert_int_equal(lay.n_params, rl.n_params);
    assert_int_equal(lay.head.w, rl.head_w);
    assert_int_equal(lay.hid[0].w, rl.w[0]);
    if (nc->timed) assert_int_equal(lay.emb[1].freq, rl.freq[1]);
    const size_t P = rl.n_params;

    /* parameters: the library's init, then biases, LayerNorm scale/shift and frequencies randomized */
    float *p = malloc(P * sizeof(float));
    assert_non_null(p);
    nn_init_params(&lay, p, 1.0f, 42, 3);
    if (nc->timed)
        for (int e = 0; e < 2; e++) {
            test_fill(&rng, p + rl.freq[e], nc->fourier, -1.2, 1.2);
            test_fill(&rng, p + rl.l1b[e], nc->time_dim, -0.5, 0.5);
            test_fill(&rng, p + rl.l2b[e], nc->time_dim, -0.5, 0.5);
        }
    for (size_t l = 0; l < nc->depth; l++) {
        test_fill(&rng, p + rl.b[l], nc->hidden, -0.5, 0.5);
        test_fill(&rng, p + rl.scale[l], nc->hidden, 0.5, 1.5);
        test_fill(&rng, p + rl.shift[l], nc->hidden, -0.5, 0.5);
    }
    test_fill(&rng, p + rl.head_b, O, -0.5, 0.5);

    float *x = malloc(n * ldx * sizeof(float)), t[16], h[16];
    float *wout = malloc(n * O * sizeof(float)), *xd = malloc(n * nc->dot_cols * sizeof(float));
    assert_true(x && wout && xd && m <= 16);
    test_fill(&rng, x, n * ldx, -1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        for (size_t c = in; c < ldx; c++) x[i * ldx + c] = 7.0f; /* padding that must never be read */
    test_fill(&rng, t, m, 0.0, 1.0);
    test_fill(&rng, h, m, 0.0, 1.0);
    test_fill(&rng, wout, n * O, -1.0, 1.0);
    test_fill(&rng, xd, n * nc->dot_cols, -1.0, 1.0);

    double *Dp = to_double(p, P), *Dx = to_double(x, n * ldx), *Dt = to_double(t, m), *Dh = to_double(h, m);
    double *Dw = to_double(wout, n * O), *Dxd = to_double(xd, n * nc->dot_cols);
    double *want = malloc((P > n * ldx ? P : n * ldx) * sizeof(double));
    float *got = malloc((P > n * ldx ? P : n * ldx) * sizeof(float));
    assert_true(want && got);

    float *dp = dev_from(be, p, P), *dx = dev_from(be, x, n * ldx), *dt = dev_from(be, t, m), *dh = dev_from(be, h, m);
    float *dwout = dev_from(be, wout, n * O), *dxd = dev_from(be, xd, n * nc->dot_cols);
    float *dgp = dev_from(be, NULL, P), *dgx = dev_from(be, NULL, n * in), *dgt = dev_from(be, NULL, m);
    float *dgh = dev_from(be, NULL, m);
    nn_cache c, ci;
    assert_int_equal(nn_cache_init(&c, be, &lay, n + nc->spare, m + nc->spare, 1), 0);
    assert_int_equal(nn_cache_init(&ci, be, &lay, n + nc->spare, m + nc->spare, 0), 0);

    /* ---- forward (training and inference caches) */
    nn_forward(be, &lay, dp, &c, n, dx, ldx, nc->timed ? dt : NULL, nc->timed ? dh : NULL, m);
    ref_forward(&rl, Dp, n, Dx, ldx, Dt, Dh, m, want);
    to_host(be, got, c.out, n * O);
    snprintf(name, sizeof name, "%s.forward", nc->name);
    check_close(name, got, want, n * O, RTOL_NET, FLOOR);
    nn_forward(be, &lay, dp, &ci, n, dx, ldx, nc->timed ? dt : NULL, nc->timed ? dh : NULL, m);
    to_host(be, got, ci.out, n * O);
    snprintf(name, sizeof name, "%s.forward_inference_cache", nc->name);
    check_close(name, got, want, n * O, RTOL_NET, FLOOR);

    /* ---- JVPs */
    struct {
        const char *what;
        int use_x;
        double td, hd;
    } jv[] = { { "x_dot", 1, 0.0, 0.0 }, { "t_dot", 0, 0.8, 0.0 }, { "h_dot", 0, 0.0, -0.6 }, { "all", 1, 0.8, -0.6 } };
    for (size_t k = 0; k < (nc->timed ? 4u : 1u); k++) {
        nn_jvp(be, &lay, dp, &c, jv[k].use_x ? dxd : NULL, jv[k].use_x ? nc->dot_cols : 0, (float)jv[k].td,
               (float)jv[k].hd);
        ref_out_tangent(&rl, Dp, n, Dx, ldx, nc->timed ? Dt : NULL, nc->timed ? Dh : NULL, m, jv[k].use_x ? Dxd : NULL,
                        nc->dot_cols, jv[k].td, jv[k].hd, want);
        to_host(be, got, c.tout, n * O);
        snprintf(name, sizeof name, "%s.jvp_%s", nc->name, jv[k].what);
        check_close(name, got, want, n * O, RTOL_NET, FLOOR);
    }

    /* ---- backward of L = sum(W_out . out) */
    nn_backward(be, &lay, dp, &c, dwout, dgp, dgx, nc->timed ? dgt : NULL, nc->timed ? dgh : NULL);
#define FD_LOSS(var, k, out_)                                                                                          \
    do {                                                                                                               \
        double keep_ = (var)[k];                                                                                       \
        (var)[k] = keep_ + FD_STEP;                                                                                    \
        double lp_ = ref_loss(&rl, Dp, n, Dx, ldx, Dt, Dh, m, Dw);                                                     \
        (var)[k] = keep_ - FD_STEP;                                                                                    \
        double lm_ = ref_loss(&rl, Dp, n, Dx, ldx, Dt, Dh, m, Dw);                                                     \
        (var)[k] = keep_;                                                                                              \
        (out_) = (lp_ - lm_) / (2.0 * FD_STEP);                                                                        \
    } while (0)
    for (size_t k = 0; k < P; k++) FD_LOSS(Dp, k, want[k]);
    to_host(be, got, dgp, P);
    snprintf(name, sizeof name, "%s.backward_params", nc->name);
    check_close(name, got, want, P, RTOL_NET, FLOOR);
    for (size_t i = 0; i < n; i++)
        for (size_t c2 = 0; c2 < in; c2++) FD_LOSS(Dx, i * ldx + c2, want[i * in + c2]);
    to_host(be, got, dgx, n * in);
    snprintf(name, sizeof name, "%s.backward_g_x", nc->name);
    check_close(name, got, want, n * in, RTOL_NET, FLOOR);
    if (nc->timed) {
        for (size_t k = 0; k < m; k++) FD_LOSS(Dt, k, want[k]);
        to_host(be, got, dgt, m);
        snprintf(name, sizeof name, "%s.backward_g_t", nc->name);
        check_close(name, got, want, m, RTOL_NET, FLOOR);
        for (size_t k = 0; k < m; k++) FD_LOSS(Dh, k, want[k]);
        to_host(be, got, dgh, m);
        snprintf(name, sizeof name, "%s.backward_g_h", nc->name);
        check_close(name, got, want, m, RTOL_NET, FLOOR);
    }
#undef FD_LOSS

    /* the same parameter gradient without the optional input gradients */
    {
        float *g2 = malloc(P * sizeof(float));
        assert_non_null(g2);
        to_host(be, got, dgp, P);
        nn_backward(be, &lay, dp, &c, dwout, dgp, NULL, NULL, NULL);
        to_host(be, g2, dgp, P);
        assert_memory_equal(got, g2, P * sizeof(float));
        free(g2);
    }

    nn_cache_free(&c, be);
    nn_cache_free(&ci, be);
    float *bufs[] = { dp, dx, dt, dh, dwout, dxd, dgp, dgx, dgt, dgh };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->ops->free(be, bufs[i]);
    be->ops->destroy(be);
    free(p);
    free(x);
    free(wout);
    free(xd);
    free(Dp);
    free(Dx);
    free(Dt);
    free(Dh);
    free(Dw);
    free(Dxd);
    free(want);
    free(got);
}

static void test_net_timed_m_n(void **state)
{
    (void)state;
    const net_case nc = { "timed[m=n]", 1, 5, 3, 8, 2, 4, 6, 7, 7, 6, 2, 0 };
    CHECKS_BEGIN();
    run_net_case(&nc);
    CHECKS_END();
}

static void test_net_timed_m_1(void **state)
{
    (void)state;
    const net_case nc = { "timed[m=1]", 1, 5, 3, 8, 2, 4, 6, 7, 1, 6, 2, 3 };
    CHECKS_BEGIN();
    run_net_case(&nc);
    CHECKS_END();
}

static void test_net_untimed(void **state)
{
    (void)state;
    /* critic-style: no embedders, depth 3, the tangent over all input columns */
    const net_case nc = { "untimed", 0, 5, 4, 8, 3, 0, 0, 7, 1, 5, 5, 2 };
    CHECKS_BEGIN();
    run_net_case(&nc);
    CHECKS_END();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_ops),      cmocka_unit_test(test_ln_gelu_ops),   cmocka_unit_test(test_fourier_ops),
        cmocka_unit_test(test_net_timed_m_n), cmocka_unit_test(test_net_timed_m_1), cmocka_unit_test(test_net_untimed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
