/*
 * Adam and Polyak averaging against hand-computed double arithmetic.
 *
 * Adam (optax-style, docs/algorithm.md §2.4): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). The reference uses the float
 * hyper-parameters the library receives, widened to double, so only the library's float32
 * rounding separates the two.
 * Tolerances: m, v: relerr <= 2e-6 (a few float32 roundings of values that are not cancellations;
 * floor 1e-30 since v reaches 1e-21). p: relerr <= 1e-6 with floor 1 (p is O(1), one float32 ulp
 * is 6e-8 of it; each step moves p by ~lr = 0.05, so a wrong bias correction, eps placement
 * (inside the sqrt changes the tiny-gradient element by ~0.05) or moment update is off by >= 1e-3).
 * Polyak: relerr <= 1e-6 with floor 1 over 3 applications.
 */
#include "engine_common.h"

enum { NP = 6 };

static void ref_adam(double *p, const double *g, double *m, double *v, double lr, double b1, double b2, double eps,
                     uint64_t step)
{
    for (size_t i = 0; i < NP; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        double mh = m[i] / (1.0 - pow(b1, (double)step));
        double vh = v[i] / (1.0 - pow(b2, (double)step));
        p[i] -= lr * mh / (sqrt(vh) + eps);
    }
}

static void test_adam_three_steps(void **state)
{
    (void)state;
    const float lr = 0.05f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    /* element 4 has gradients small enough that eps matters; element 5 changes sign, element 3 is 0 */
    const float p0[NP] = { 0.5f, -1.2f, 2.0f, 0.25f, 1.0f, -0.3f };
    const float grads[3][NP] = { { 0.1f, -2.0f, 0.5f, 0.0f, 1e-9f, 3.0f },
                                 { 0.3f, -1.0f, -0.5f, 0.0f, 2e-9f, -4.0f },
                                 { -0.2f, 0.5f, 0.25f, 0.0f, -1e-9f, 0.5f } };
    double P[NP], M[NP] = { 0 }, V[NP] = { 0 }, G[NP];
    float p[NP], m[NP], v[NP];
    char name[64];
    be_backend *be = test_backend();
    float *dp = be->ops->alloc(be, sizeof p), *dg = be->ops->alloc(be, sizeof p);
    float *dm = be->ops->alloc(be, sizeof p), *dv = be->ops->alloc(be, sizeof p);
    assert_true(dp && dg && dm && dv); /* alloc zero-fills: m = v = 0 */
    CHECKS_BEGIN();
    be->ops->upload(be, dp, p0, sizeof p0);
    for (size_t i = 0; i < NP; i++) P[i] = p0[i];
    for (uint64_t t = 1; t <= 3; t++) {
        be->ops->upload(be, dg, grads[t - 1], sizeof p);
        test_adam(be, NP, dp, dg, dm, dv, lr, b1, b2, eps, t);
        for (size_t i = 0; i < NP; i++) G[i] = grads[t - 1][i];
        ref_adam(P, G, M, V, lr, b1, b2, eps, t);
        be->ops->download(be, p, dp, sizeof p);
        be->ops->download(be, m, dm, sizeof p);
        be->ops->download(be, v, dv, sizeof p);
        snprintf(name, sizeof name, "adam.step%u.p", (unsigned)t);
        check_close(name, p, P, NP, 1e-6, 1.0);
        snprintf(name, sizeof name, "adam.step%u.m", (unsigned)t);
        check_close(name, m, M, NP, 2e-6, 1e-30);
        snprintf(name, sizeof name, "adam.step%u.v", (unsigned)t);
        check_close(name, v, V, NP, 2e-6, 1e-30);
    }
    /* hand check of step 1 for element 0: m = 0.01, v = 1e-5, m_hat = 0.1, v_hat = 0.01 (to float
     * rounding of b2), update = 0.05 * 0.1 / (0.1 + 1e-8) */
    {
        float q[NP], m1[NP];
        be->ops->fill(be, dm, 0.0f, NP);
        be->ops->fill(be, dv, 0.0f, NP);
        be->ops->upload(be, dp, p0, sizeof p0);
        be->ops->upload(be, dg, grads[0], sizeof p);
        test_adam(be, NP, dp, dg, dm, dv, lr, b1, b2, eps, 1);
        be->ops->download(be, q, dp, sizeof q);
        be->ops->download(be, m1, dm, sizeof m1);
        check_scalar("adam.hand.m0", m1[0], 0.01, 1e-8);
        check_scalar("adam.hand.p0", q[0], 0.5 - 0.05 * 0.1 / (0.1 + 1e-8), 1e-7);
        /* the tiny gradient: update = lr * g / (|g| + eps) = 0.05 / 11 */
        check_scalar("adam.hand.p4", q[4], 1.0 - 0.05 * 1e-9 / (1e-9 + 1e-8), 2e-7);
    }
    /* a late step: bias corrections near 1 */
    {
        double Pl[NP], Ml[NP], Vl[NP];
        float pl[NP], ml[NP], vl[NP];
        be->ops->download(be, p, dp, sizeof p); /* p after the hand-checked step */
        for (size_t i = 0; i < NP; i++) {
            Pl[i] = p[i];
            ml[i] = (float)(0.1 * (double)i - 0.2);
            vl[i] = (float)(0.01 * (double)(i + 1));
            Ml[i] = ml[i];
            Vl[i] = vl[i];
            G[i] = grads[0][i];
        }
        be->ops->upload(be, dm, ml, sizeof ml);
        be->ops->upload(be, dv, vl, sizeof vl);
        be->ops->upload(be, dg, grads[0], sizeof p);
        test_adam(be, NP, dp, dg, dm, dv, lr, b1, b2, eps, 5000);
        ref_adam(Pl, G, Ml, Vl, lr, b1, b2, eps, 5000);
        be->ops->download(be, pl, dp, sizeof pl);
        check_close("adam.step5000.p", pl, Pl, NP, 1e-6, 1.0);
    }
    be->ops->free(be, dp);
    be->ops->free(be, dg);
    be->ops->free(be, dm);
    be->ops->free(be, dv);
    be->ops->destroy(be);
    CHECKS_END();
}

static void test_polyak(void **state)
{
    (void)state;
    const float tau = 0.005f;
    const float online[NP] = { 1.0f, -2.0f, 0.5f, 100.0f, 0.0f, -0.125f };
    float target[NP] = { 0.0f, 1.0f, 0.5f, -3.0f, 7.0f, 0.25f };
    double T[NP];
    char name[64];
    be_backend *be = test_backend();
    float *dt = be->ops->alloc(be, sizeof target), *don = be->ops->alloc(be, sizeof online);
    assert_true(dt && don);
    CHECKS_BEGIN();
    for (size_t i = 0; i < NP; i++) T[i] = target[i];
    be->ops->upload(be, dt, target, sizeof target);
    be->ops->upload(be, don, online, sizeof online);
    for (int k = 1; k <= 3; k++) {
        be->ops->polyak(be, NP, dt, don, tau);
        for (size_t i = 0; i < NP; i++) T[i] = (double)tau * online[i] + (1.0 - (double)tau) * T[i];
        be->ops->download(be, target, dt, sizeof target);
        snprintf(name, sizeof name, "polyak.apply%d", k);
        check_close(name, target, T, NP, 1e-6, 1.0);
        if (k == 1) { /* by hand: 0.005 * 1 + 0.995 * 0 and 0.005 * 100 + 0.995 * (-3) */
            check_scalar("polyak.hand.e0", target[0], 0.005, 1e-9);
            check_scalar("polyak.hand.e3", target[3], -2.485, 4e-7);
        }
    }
    check_scalar("polyak.fixed_point", target[2], 0.5, 1e-7); /* online == target stays put */
    be->ops->free(be, dt);
    be->ops->free(be, don);
    be->ops->destroy(be);
    CHECKS_END();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_three_steps),
        cmocka_unit_test(test_polyak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
