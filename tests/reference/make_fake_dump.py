#!/usr/bin/env python3
"""Write a fake libmfpo dump directory (random config, weights, draws) whose
"library" outputs are computed by the reference's own stage functions -- in
float32 by default, which emulates the rounding of a float32 C library -- so
that mfpo_reference.py can be exercised before the C side exists.

  python3 tests/reference/make_fake_dump.py OUT_DIR [--size small|medium|paper]
        [--seed N] [--precision f32|f64] [--bug NAME ...] [--alpha A]
        [--adam-step K] [--no-cdq] [--no-auto-alpha]
  python3 tests/reference/make_fake_dump.py --selftest   # clean dumps pass, bugged fail

--bug injects a known mistake into the fake library (it then propagates
downstream, like a real bug would):
  logp_sign   policy-proposal sampler adds -h*d to logp (sign of d flipped)
  tangent_h0  MeanFlow JVP with tangent 0 on h (misreading (v,1,0) over (z,t,h))
  adam_nobc   Adam on u without bias correction
  no_polyak   target critics not Polyak-updated
"""
import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mfpo_reference as R  # noqa: E402  (also enables x64, CPU)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

SIZES = {
    "small": dict(obs_dim=3, act_dim=2, hidden=16, depth=2, batch=8, k1=4, k2=6, probes=2,
                  atoms=11, v_min=-10.0, v_max=10.0, fourier=8, time_dim=8, alpha=0.5),
    "medium": dict(obs_dim=17, act_dim=6, hidden=64, depth=2, batch=32, k1=16, k2=32, probes=2,
                   atoms=51, v_min=-100.0, v_max=100.0, fourier=64, time_dim=64, alpha=0.5),
    "paper": dict(obs_dim=17, act_dim=6, hidden=256, depth=3, batch=256, k1=16, k2=32, probes=2,
                  atoms=101, v_min=-1600.0, v_max=1600.0, fourier=64, time_dim=64, alpha=0.01),
}
BUGS = ("logp_sign", "tangent_h0", "adam_nobc", "no_polyak")


def make_cfg(size, cdq=True, auto_alpha=True, adam_step=9):
    z = dict(SIZES[size])
    z.pop("alpha")
    return R.Cfg(steps=2, gamma=0.99, tau=0.005, lr_policy=3e-4, lr_divergence=3e-4,
                 lr_critic=3e-4, lr_alpha=3e-4, clipped_double_q=int(cdq),
                 auto_alpha=int(auto_alpha), target_entropy=-0.5 * z["act_dim"],
                 flow_fraction=0.75, adam_beta1=0.9, adam_beta2=0.999, adam_eps=1e-8,
                 t_eps=1e-5, adam_step=adam_step, **z)


def init_params(rng, lay):
    """Xavier-uniform kernels, LN scale ~1, Fourier W ~ N(0, 0.2^2); biases/shifts get
    small random values (not zero) so that a layout mix-up cannot go unnoticed."""
    parts = []
    for name, sh in lay:
        base = name.split("_")[-1]
        if len(sh) == 2:
            lim = math.sqrt(6.0 / (sh[0] + sh[1]))
            x = rng.uniform(-lim, lim, sh)
        elif base == "W":
            x = rng.normal(0.0, 0.2, sh)
        elif base == "s":
            x = 1.0 + rng.normal(0.0, 0.1, sh)
        else:
            x = rng.normal(0.0, 0.05, sh)
        parts.append(x.ravel())
    return np.concatenate(parts)


def make_inputs(c, rng, alpha):
    B, S, A, K1, K2, P = c.batch, c.obs_dim, c.act_dim, c.k1, c.k2, c.probes
    I = {}
    I["params_u"] = init_params(rng, R.flow_layout(c, A))
    I["params_d"] = init_params(rng, R.flow_layout(c, 1))
    for q in ("q1", "q2"):
        I["params_" + q] = init_params(rng, R.critic_layout(c))
        # targets: near but not equal to the online nets
        I[f"params_{q}t"] = I["params_" + q] + rng.normal(0, 0.01, I["params_" + q].shape)
    I["log_alpha"] = np.array([math.log(alpha)])
    for k, p in (("u", "params_u"), ("d", "params_d"), ("q1", "params_q1"), ("q2", "params_q2"),
                 ("alpha", "log_alpha")):
        n = I[p].shape
        if c.adam_step == 0:
            I["m_" + k], I["v_" + k] = np.zeros(n), np.zeros(n)
        else:
            I["m_" + k] = rng.normal(0, 1e-3, n)
            I["v_" + k] = rng.normal(0, 1e-3, n) ** 2 + 1e-10
    vr = c.v_max - c.v_min
    I["s"] = rng.normal(size=(B, S))
    I["a"] = rng.uniform(-1, 1, (B, A))
    I["r"] = rng.normal(0, 0.02 * vr, B)
    I["s2"] = I["s"] + 0.1 * rng.normal(size=(B, S))
    I["mask"] = (rng.uniform(size=B) > 0.2).astype(np.float64)
    I["crit_eps"] = rng.normal(size=(B, A))
    I["act_tr_normal"] = rng.normal(size=(B, 2))
    I["act_eps_pol"] = rng.normal(size=(B, K1, A))
    I["act_eps_noisy"] = rng.normal(size=(B, A))
    I["div_tr_normal"] = rng.normal(size=(B, 2))
    I["div_eps"] = rng.normal(size=(B, A))
    I["div_probes"] = rng.normal(size=(P, B, A))
    # truncated normal for the Gaussian proposal: needs z_t, which needs the policy samples
    t, _ = R.J["times"](c, jnp.asarray(I["act_tr_normal"]))
    pa, _ = R.J["sample_logp_rep"](c, jnp.asarray(I["params_u"]), jnp.asarray(I["params_d"]),
                                   jnp.asarray(I["s"]), jnp.asarray(I["act_eps_pol"]))
    zt = np.asarray(R.noisy_point(t, pa[:, 0], jnp.asarray(I["act_eps_noisy"])))
    t = np.asarray(t)
    omt, tg = np.maximum(1 - t, c.t_eps), np.maximum(t, c.t_eps)
    lo = (zt - omt[:, None]) / tg[:, None]
    hi = (zt + omt[:, None]) / tg[:, None]
    key = jax.random.PRNGKey(int(rng.integers(2 ** 31)))
    n = jax.random.truncated_normal(key, lo[:, None, :], hi[:, None, :], (B, K2, A), jnp.float64)
    # shrink 1e-6 of the interval inwards so float32 rounding keeps them inside
    mid, half = 0.5 * (lo + hi)[:, None, :], 0.5 * (hi - lo)[:, None, :]
    I["act_trunc_n"] = np.clip(np.asarray(n), mid - half * (1 - 1e-6), mid + half * (1 - 1e-6))
    return I


def make_dump(out_dir, size="small", seed=0, precision="f32", bugs=(), alpha=None,
              adam_step=9, cdq=True, auto_alpha=True):
    c = make_cfg(size, cdq, auto_alpha, adam_step)
    rng = np.random.default_rng(seed)
    I = make_inputs(c, rng, SIZES[size]["alpha"] if alpha is None else alpha)
    # inputs are stored as float32: the library sees exactly these values
    I32 = {k: np.asarray(v, np.float32) for k, v in I.items()}
    dt = np.float32 if precision == "f32" else np.float64
    out = R.full_update(c, {k: v.astype(dt) for k, v in I32.items()}, bugs=bugs)
    arrs = dict(I32)
    arrs.update({k: np.asarray(v) for k, v in out.items()})
    R.write_dump(out_dir, c, arrs)
    return c


def selftest():
    """Clean float32 dumps must pass, every injected bug must be caught (and localized)."""
    cases = [
        # (size, seed, precision, bugs, extra kwargs, expect_fail, must_fail_names)
        ("small", 1, "f64", (), {}, False, ()),
        ("small", 2, "f32", (), {}, False, ()),
        ("small", 3, "f32", (), dict(cdq=False, auto_alpha=False, adam_step=0), False, ()),
        ("medium", 4, "f32", (), {}, False, ()),
        ("medium", 5, "f32", (), dict(alpha=0.01, adam_step=0), False, ()),
        ("small", 6, "f32", ("logp_sign",), {}, True, ("pol_logp", "e2e:entropy")),
        ("medium", 7, "f32", ("logp_sign",), {}, True, ("pol_logp", "e2e:entropy")),
        ("medium", 8, "f32", ("tangent_h0",), {}, True, ("u_dot",)),
        ("medium", 9, "f32", ("adam_nobc",), {}, True, ("params_u_new",)),
        ("small", 10, "f32", ("no_polyak",), {}, True, ("params_q1t_new", "params_q2t_new")),
    ]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (size, seed, prec, bugs, kw, expect_fail, must) in enumerate(cases):
            d = os.path.join(tmp, f"case{i}")
            t0 = time.time()
            c = make_dump(d, size, seed, prec, bugs, **kw)
            L = R.read_dump(d)
            print(f"\n##### case {i}: size={size} seed={seed} precision={prec} bugs={bugs} {kw}")
            ck = R.run_checks(c, L)
            print(f"{ck.n_pass} passed, {ck.n_fail} failed   ({time.time() - t0:.1f}s)")
            ok = (ck.n_fail > 0) == expect_fail and all(m in ck.failed for m in must)
            worst = max(ck.worst, key=ck.worst.get)
            print(f"##### case {i}: {'OK' if ok else 'UNEXPECTED'}  failed={ck.failed}  "
                  f"worst err/tol={ck.worst[worst]:.2e} ({worst})")
            bad += not ok
    print(f"\nselftest: {len(cases) - bad} of {len(cases)} cases as expected")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", choices=("f32", "f64"), default="f32")
    ap.add_argument("--bug", action="append", default=[], choices=BUGS)
    ap.add_argument("--alpha", type=float, default=None)
    ap.add_argument("--adam-step", type=int, default=9)
    ap.add_argument("--no-cdq", action="store_true")
    ap.add_argument("--no-auto-alpha", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    if not a.out_dir:
        ap.error("OUT_DIR is required unless --selftest")
    make_dump(a.out_dir, a.size, a.seed, a.precision, tuple(a.bug), a.alpha, a.adam_step,
              not a.no_cdq, not a.no_auto_alpha)
    print(f"wrote {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
