#!/usr/bin/env python3
"""Independent JAX (float64, CPU) autodiff reference for one MFPO update.

Usage:  python3 tests/reference/mfpo_reference.py <dump_dir> [--quiet-e2e]

The C library writes a dump directory for one update (manifest.txt, <name>.bin
raw little-endian float32 row-major, config.txt key=value).  This script
recomputes every intermediate from the inputs with JAX (forward mode for the
MeanFlow / Hutchinson JVPs, reverse mode for the loss gradients) in float64 and
compares it with what the library wrote.

Two passes:
  * teacher-forced ("tf"): every stage is recomputed from the *library's own*
    upstream values (e.g. SNIS weights from the library's q_all / log_w), so a
    float32 rounding difference upstream cannot be amplified by the very sharp
    softmax Q/alpha (alpha ~ 0.01, Q ~ 1e3) into a false failure, and a real
    bug shows up at the first stage that contains it.
  * end-to-end ("e2e:"): everything recomputed from the inputs only; checked for
    the quantities whose float32 conditioning is benign (sampler outputs, times,
    critic target/loss/gradients, Q values, entropy).  Quantities downstream of
    an Adam step or of the SNIS softmax are not compared end-to-end (Adam at step
    1 is ~lr*sign(g), discontinuous at g ~ 0; softmax(Q/alpha) amplifies Q
    errors by 1/alpha).

Criterion per element: |lib - ref| <= atol + rtol*|ref|; gradients additionally
||lib - ref||_2 / ||ref||_2 <= normrel.  The tolerances (TOL table below) are
stated in multiples of float32 machine epsilon EPS32 = 2^-23 ~ 1.2e-7 times the
natural magnitude scale of each quantity; they are ~100x above what a float32
evaluation of the same formulas gives (see README.md) and many orders below the
O(1e-2..1) errors a wrong formula, sign, tangent or layout produces.

The file is also a library: make_fake_dump.py imports the network/stage
functions and `full_update` from here.
"""
import argparse
import math
import os
import sys
from collections import namedtuple

import numpy as np
import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
jax.config.update("jax_default_matmul_precision", "highest")
import jax.numpy as jnp  # noqa: E402

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7
LN_EPS = 1e-6
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

# ----------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------
INT_KEYS = ("obs_dim", "act_dim", "hidden", "depth", "steps", "k1", "k2", "probes",
            "atoms", "clipped_double_q", "auto_alpha", "batch", "fourier", "time_dim",
            "adam_step")
FLOAT_KEYS = ("v_min", "v_max", "gamma", "tau", "lr_policy", "lr_divergence", "lr_critic",
              "lr_alpha", "target_entropy", "flow_fraction", "adam_beta1", "adam_beta2",
              "adam_eps", "t_eps")
CONFIG_KEYS = ("obs_dim", "act_dim", "hidden", "depth", "steps", "k1", "k2", "probes", "atoms",
               "v_min", "v_max", "gamma", "tau", "lr_policy", "lr_divergence", "lr_critic",
               "lr_alpha", "clipped_double_q", "auto_alpha", "target_entropy", "flow_fraction",
               "batch", "adam_beta1", "adam_beta2", "adam_eps", "t_eps", "fourier", "time_dim",
               "adam_step")
Cfg = namedtuple("Cfg", CONFIG_KEYS)  # hashable -> usable as a static jit argument


def parse_config(path):
    vals = {}
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if not ln or ln.startswith("#"):
                continue
            k, _, v = ln.partition("=")
            vals[k.strip()] = v.strip()
    missing = [k for k in CONFIG_KEYS if k not in vals]
    if missing:
        raise SystemExit("config.txt is missing keys: " + " ".join(missing))
    out = {}
    for k in CONFIG_KEYS:
        if k in INT_KEYS:
            out[k] = int(round(float(vals[k])))
        else:
            out[k] = float(vals[k])
    return Cfg(**out)


def write_config(path, c):
    with open(path, "w") as f:
        for k in CONFIG_KEYS:
            v = getattr(c, k)
            f.write(f"{k}={v!r}\n" if isinstance(v, float) else f"{k}={v}\n")


def n_flow_rows(c):
    """Rows b < floor(flow_fraction * B) get r = t (h = 0)."""
    # +1e-9 guards against 0.29*100 = 28.999999999999996 style representation error.
    return int(math.floor(c.flow_fraction * c.batch + 1e-9))


# ----------------------------------------------------------------------------
# parameter layouts (flat float vectors)
# ----------------------------------------------------------------------------
def embed_layout(c, pre):
    F, T = c.fourier, c.time_dim
    return [(pre + "W", (F,)), (pre + "k1", (2 * F, T)), (pre + "b1", (T,)),
            (pre + "k2", (T, T)), (pre + "b2", (T,))]


def mlp_layout(c, in0, out):
    lay, fan_in = [], in0
    for l in range(c.depth):
        lay += [(f"h{l}_k", (fan_in, c.hidden)), (f"h{l}_b", (c.hidden,)),
                (f"h{l}_s", (c.hidden,)), (f"h{l}_o", (c.hidden,))]
        fan_in = c.hidden
    lay += [("out_k", (c.hidden, out)), ("out_b", (out,))]
    return lay


def flow_layout(c, out):
    return (embed_layout(c, "Et_") + embed_layout(c, "Eh_")
            + mlp_layout(c, c.act_dim + c.obs_dim + c.time_dim, out))


def critic_layout(c):
    return mlp_layout(c, c.obs_dim + c.act_dim, c.atoms)


def layout_size(lay):
    return sum(int(np.prod(sh)) for _, sh in lay)


def unpack(flat, lay):
    P, o = {}, 0
    for name, sh in lay:
        n = int(np.prod(sh))
        P[name] = flat[o:o + n].reshape(sh)
        o += n
    assert o == flat.shape[0], f"parameter vector has {flat.shape[0]} entries, layout needs {o}"
    return P


# ----------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------
def gelu(x):
    return 0.5 * x * (1.0 + jnp.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


def layernorm(x, scale, shift):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = jnp.mean(xc * xc, axis=-1, keepdims=True)
    return scale * (xc / jnp.sqrt(var + LN_EPS)) + shift


def mlp(P, x, depth):
    for l in range(depth):
        x = gelu(layernorm(x @ P[f"h{l}_k"] + P[f"h{l}_b"], P[f"h{l}_s"], P[f"h{l}_o"]))
    return x @ P["out_k"] + P["out_b"]


def time_embed(P, pre, x):
    f = (2.0 * math.pi) * x[..., None] * P[pre + "W"]
    feats = jnp.concatenate([jnp.cos(f), jnp.sin(f)], axis=-1)
    return gelu(feats @ P[pre + "k1"] + P[pre + "b1"]) @ P[pre + "k2"] + P[pre + "b2"]


def flow_apply(c, flat, out, s, z, t, h):
    P = unpack(flat, flow_layout(c, out))
    cond = time_embed(P, "Et_", t) + time_embed(P, "Eh_", h)
    return mlp(P, jnp.concatenate([z, s, cond], axis=-1), c.depth)


def u_apply(c, pu, s, z, t, h):
    return flow_apply(c, pu, c.act_dim, s, z, t, h)


def d_apply(c, pd, s, z, t, h):
    return flow_apply(c, pd, 1, s, z, t, h)[..., 0]


def critic_logits(c, pq, s, a):
    return mlp(unpack(pq, critic_layout(c)), jnp.concatenate([s, a], axis=-1), c.depth)


def atoms(c, dt):
    return jnp.linspace(c.v_min, c.v_max, c.atoms, dtype=dt)


# ----------------------------------------------------------------------------
# stages (dtype-generic: float64 for the reference, float32 to emulate the library)
# ----------------------------------------------------------------------------
def sample_logp(c, pu, pd, s, eps, dsign=1.0):
    """Sec. 3 sampler with likelihood; rows (s, eps).  dsign is only for fake bugs."""
    A, T = c.act_dim, c.steps
    h = 1.0 / T
    z = eps
    logp = -0.5 * jnp.sum(eps * eps, axis=-1) - 0.5 * A * math.log(2.0 * math.pi)
    hv = jnp.full(eps.shape[:1], h, dtype=eps.dtype)
    for i in range(T, 0, -1):
        tv = jnp.full(eps.shape[:1], i / T, dtype=eps.dtype)
        uu = u_apply(c, pu, s, z, tv, hv)
        dd = d_apply(c, pd, s, z, tv, hv)
        z = z - h * uu
        logp = logp + dsign * h * dd
    return jnp.clip(z, -1.0, 1.0), logp


def sample_logp_rep(c, pu, pd, s, eps, dsign=1.0):
    """Rows (b, j): obs s[b], noise eps[b, j]."""
    B, K, A = eps.shape
    srep = jnp.repeat(s[:, None, :], K, axis=1).reshape(B * K, -1)
    a, lp = sample_logp(c, pu, pd, srep, eps.reshape(B * K, A), dsign)
    return a.reshape(B, K, A), lp.reshape(B, K)


def project(c, p, y):
    """C51 projection of masses p [B,N] placed at y [B,N] onto the fixed atoms."""
    N = c.atoms
    dc = (c.v_max - c.v_min) / (N - 1)
    b = (y - c.v_min) / dc
    l = jnp.clip(jnp.floor(b), 0, N - 1)
    u = jnp.clip(jnp.ceil(b), 0, N - 1)
    eq = l == u
    wl = jnp.where(eq, p, p * (u - b))
    wu = jnp.where(eq, 0.0, p * (b - l))
    oh_l = jax.nn.one_hot(l.astype(jnp.int32), N, dtype=p.dtype)
    oh_u = jax.nn.one_hot(u.astype(jnp.int32), N, dtype=p.dtype)
    return jnp.einsum("bj,bjk->bk", wl, oh_l) + jnp.einsum("bj,bjk->bk", wu, oh_u)


def crit_target(c, pq1t, pq2t, s2, na, nlogp, r, mask, alpha):
    cs = atoms(c, s2.dtype)
    p1 = jax.nn.softmax(critic_logits(c, pq1t, s2, na), axis=-1)
    p2 = jax.nn.softmax(critic_logits(c, pq2t, s2, na), axis=-1)
    y = jnp.clip(r[:, None] + c.gamma * mask[:, None] * (cs[None, :] - alpha * nlogp[:, None]),
                 c.v_min, c.v_max)
    pr1, pr2 = project(c, p1, y), project(c, p2, y)
    m1, m2 = pr1 @ cs, pr2 @ cs
    if c.clipped_double_q:
        tgt = jnp.where((m2 < m1)[:, None], pr2, pr1)
    else:
        tgt = 0.5 * (pr1 + pr2)
    return tgt, pr1, pr2, m1, m2


def crit_loss(c, pq, s, a, tgt):
    lsm = jax.nn.log_softmax(critic_logits(c, pq, s, a), axis=-1)
    return jnp.mean(-jnp.sum(tgt * lsm, axis=-1))


def adam(c, p, m, v, g, lr, bias_correction=True):
    t = c.adam_step + 1
    b1, b2 = c.adam_beta1, c.adam_beta2
    m = b1 * m + (1.0 - b1) * g
    v = b2 * v + (1.0 - b2) * g * g
    if bias_correction:
        mh, vh = m / (1.0 - b1 ** t), v / (1.0 - b2 ** t)
    else:
        mh, vh = m, v
    return p - lr * mh / (jnp.sqrt(vh) + c.adam_eps)


def polyak(c, online_new, target):
    return c.tau * online_new + (1.0 - c.tau) * target


def times(c, n):
    tr = jax.nn.sigmoid(-0.4 + n)
    t, r = jnp.max(tr, axis=-1), jnp.min(tr, axis=-1)
    r = jnp.where(jnp.arange(n.shape[0]) < n_flow_rows(c), t, r)
    return t, r


def noisy_point(t, a1, eps):
    return (1.0 - t)[:, None] * a1 + t[:, None] * eps


def gauss_cands(c, zt, t, n):
    omt = jnp.maximum(1.0 - t, c.t_eps)
    return jnp.clip((zt[:, None, :] - t[:, None, None] * n) / omt[:, None, None], -1.0, 1.0)


def q_values(c, pq1, pq2, s, cands):
    B, K, A = cands.shape
    cs = atoms(c, s.dtype)
    srep = jnp.repeat(s[:, None, :], K, axis=1).reshape(B * K, -1)
    ca = cands.reshape(B * K, A)
    q1 = jax.nn.softmax(critic_logits(c, pq1, srep, ca), axis=-1) @ cs
    q2 = jax.nn.softmax(critic_logits(c, pq2, srep, ca), axis=-1) @ cs
    q = jnp.minimum(q1, q2) if c.clipped_double_q else 0.5 * (q1 + q2)
    return q.reshape(B, K)


def log_weights(c, q, zt, t, pa, plogp, alpha):
    K1 = c.k1
    tg = jnp.maximum(t, c.t_eps)
    d2 = jnp.sum((zt[:, None, :] - (1.0 - t)[:, None, None] * pa) ** 2, axis=-1)
    lw_p = q[:, :K1] / alpha - d2 / (2.0 * tg[:, None] ** 2) - plogp
    lw_g = q[:, K1:] / alpha
    return jnp.concatenate([lw_p, lw_g], axis=1)


def snis_weights(c, lw):
    K1 = c.k1
    return jnp.concatenate([jax.nn.softmax(lw[:, :K1], axis=1),
                            jax.nn.softmax(lw[:, K1:], axis=1)], axis=1)


def ess_of(c, w):
    K1 = c.k1
    return jnp.stack([1.0 / jnp.sum(w[:, :K1] ** 2, axis=1),
                      1.0 / jnp.sum(w[:, K1:] ** 2, axis=1)], axis=1)


def v_hat_of(c, w, ess, zt, t, pa, ga):
    K1 = c.k1
    tg = jnp.maximum(t, c.t_eps)
    v1 = jnp.sum(w[:, :K1, None] * (zt[:, None, :] - pa), axis=1) / tg[:, None]
    v2 = jnp.sum(w[:, K1:, None] * (zt[:, None, :] - ga), axis=1) / tg[:, None]
    e1, e2 = ess[:, 0:1], ess[:, 1:2]
    return (e1 * v1 + e2 * v2) / (e1 + e2)


def u_jvp(c, pu, s, z, t, h, vz, h_tangent=1.0):
    f = lambda zz, tt, hh: u_apply(c, pu, s, zz, tt, hh)  # noqa: E731
    return jax.jvp(f, (z, t, h), (vz, jnp.ones_like(t), h_tangent * jnp.ones_like(h)))


def d_jvp(c, pd, s, z, t, h, vz, h_tangent=1.0):
    f = lambda zz, tt, hh: d_apply(c, pd, s, zz, tt, hh)  # noqa: E731
    return jax.jvp(f, (z, t, h), (vz, jnp.ones_like(t), h_tangent * jnp.ones_like(h)))


def mf_target(v, vdot, t, r):
    hc = jnp.clip(t - r, 0.0, 1.0)
    return v - (hc[:, None] if v.ndim == 2 else hc) * vdot


def actor_loss(c, pu, s, z, t, h, utgt):
    return jnp.mean((u_apply(c, pu, s, z, t, h) - utgt) ** 2)


def div_loss(c, pd, s, z, t, h, dtgt):
    return jnp.mean((d_apply(c, pd, s, z, t, h) - dtgt) ** 2)


def hutchinson(c, pu, s, z, t, probes):
    """mean_e e.(dv/dz)e with v = u(s, z, t, 0); also returns sum_k |e_k (Je)_k| (scale)."""
    h0 = jnp.zeros_like(t)
    f = lambda zz: u_apply(c, pu, s, zz, t, h0)  # noqa: E731
    est, scale = 0.0, 0.0
    for p in range(probes.shape[0]):
        _, je = jax.jvp(f, (z,), (probes[p],))
        est = est + jnp.sum(probes[p] * je, axis=-1)
        scale = scale + jnp.sum(jnp.abs(probes[p] * je), axis=-1)
    return est / probes.shape[0], scale / probes.shape[0]


# jitted entry points (cfg is static)
J = {}
for _name, _fn in [("sample_logp", sample_logp), ("sample_logp_rep", sample_logp_rep),
                   ("crit_target", crit_target), ("crit_loss_vg", jax.value_and_grad(crit_loss, argnums=1)),
                   ("q_values", q_values), ("u_jvp", u_jvp), ("d_jvp", d_jvp),
                   ("actor_loss_vg", jax.value_and_grad(actor_loss, argnums=1)),
                   ("div_loss_vg", jax.value_and_grad(div_loss, argnums=1)),
                   ("u_apply", u_apply), ("d_apply", d_apply), ("hutchinson", hutchinson),
                   ("adam", adam), ("times", times), ("log_weights", log_weights),
                   ("snis_weights", snis_weights), ("ess_of", ess_of), ("v_hat_of", v_hat_of),
                   ("gauss_cands", gauss_cands)]:
    J[_name] = jax.jit(_fn, static_argnums=(0,),
                       static_argnames=("bias_correction",) if _name == "adam" else ())


# ----------------------------------------------------------------------------
# full update from the inputs (the end-to-end reference; also the fake library)
# ----------------------------------------------------------------------------
INPUT_NAMES = ("params_u", "params_d", "params_q1", "params_q2", "params_q1t", "params_q2t",
               "log_alpha", "m_u", "v_u", "m_d", "v_d", "m_q1", "v_q1", "m_q2", "v_q2",
               "m_alpha", "v_alpha", "s", "a", "r", "s2", "mask", "crit_eps", "act_tr_normal",
               "act_eps_pol", "act_eps_noisy", "act_trunc_n", "div_tr_normal", "div_eps",
               "div_probes")


def expected_shapes(c):
    B, S, A, K1, K2, P, N = c.batch, c.obs_dim, c.act_dim, c.k1, c.k2, c.probes, c.atoms
    nu, nd = layout_size(flow_layout(c, A)), layout_size(flow_layout(c, 1))
    nq = layout_size(critic_layout(c))
    sh = {"params_u": (nu,), "params_d": (nd,), "log_alpha": (1,),
          "s": (B, S), "a": (B, A), "r": (B,), "s2": (B, S), "mask": (B,),
          "crit_eps": (B, A), "act_tr_normal": (B, 2), "act_eps_pol": (B, K1, A),
          "act_eps_noisy": (B, A), "act_trunc_n": (B, K2, A), "div_tr_normal": (B, 2),
          "div_eps": (B, A), "div_probes": (P, B, A),
          "crit_next_a": (B, A), "crit_next_logp": (B,), "crit_target_dist": (B, N),
          "crit_loss": (2,), "act_t": (B,), "act_r": (B,), "pol_a": (B, K1, A),
          "pol_logp": (B, K1), "z_t": (B, A), "gauss_a": (B, K2, A), "q_all": (B, K1 + K2),
          "log_w": (B, K1 + K2), "w": (B, K1 + K2), "ess": (B, 2), "v_hat": (B, A),
          "u_pred": (B, A), "u_dot": (B, A), "u_tgt": (B, A), "actor_loss": (1,),
          "grad_u": (nu,), "params_u_new": (nu,), "div_t": (B,), "div_r": (B,),
          "div_z_t": (B, A), "div_v": (B, A), "div_est": (B,), "d_pred": (B,), "d_dot": (B,),
          "d_tgt": (B,), "div_loss": (1,), "grad_d": (nd,), "params_d_new": (nd,),
          "entropy": (1,), "alpha_loss": (1,), "grad_log_alpha": (1,), "log_alpha_new": (1,)}
    for q in ("q1", "q2", "q1t", "q2t"):
        sh["params_" + q] = (nq,)
    for q in ("q1", "q2"):
        sh["grad_" + q] = (nq,)
        sh[f"params_{q}_new"] = (nq,)
        sh[f"params_{q}t_new"] = (nq,)
    for k, p in (("u", "params_u"), ("d", "params_d"), ("q1", "params_q1"), ("q2", "params_q2"),
                 ("alpha", "log_alpha")):
        sh["m_" + k] = sh[p]
        sh["v_" + k] = sh[p]
    return sh


def full_update(c, inp, bugs=()):
    """All outputs of one update computed from the inputs only.

    `inp` values may be float32 (emulates the library) or float64 (reference).
    `bugs` (fake-dump testing only) injects known mistakes:
      logp_sign   - policy-proposal sampler subtracts h*d instead of adding it
      tangent_h0  - MeanFlow JVP uses tangent 0 on h (reads (v,1,0) as (z,t,h))
      adam_nobc   - Adam on u without bias correction
      no_polyak   - target critics not updated
    """
    X = {k: jnp.asarray(v) for k, v in inp.items()}
    out = {}
    alpha = jnp.exp(X["log_alpha"][0])
    # (a) critic
    na, nlogp = J["sample_logp"](c, X["params_u"], X["params_d"], X["s2"], X["crit_eps"])
    tgt, *_ = J["crit_target"](c, X["params_q1t"], X["params_q2t"], X["s2"], na, nlogp,
                               X["r"], X["mask"], alpha)
    l1, g1 = J["crit_loss_vg"](c, X["params_q1"], X["s"], X["a"], tgt)
    l2, g2 = J["crit_loss_vg"](c, X["params_q2"], X["s"], X["a"], tgt)
    pq1n = J["adam"](c, X["params_q1"], X["m_q1"], X["v_q1"], g1, c.lr_critic)
    pq2n = J["adam"](c, X["params_q2"], X["m_q2"], X["v_q2"], g2, c.lr_critic)
    if "no_polyak" in bugs:
        pq1tn, pq2tn = X["params_q1t"], X["params_q2t"]
    else:
        pq1tn, pq2tn = polyak(c, pq1n, X["params_q1t"]), polyak(c, pq2n, X["params_q2t"])
    out.update(crit_next_a=na, crit_next_logp=nlogp, crit_target_dist=tgt,
               crit_loss=jnp.stack([l1, l2]), grad_q1=g1, grad_q2=g2, params_q1_new=pq1n,
               params_q2_new=pq2n, params_q1t_new=pq1tn, params_q2t_new=pq2tn)
    # (b) actor
    t, r = J["times"](c, X["act_tr_normal"])
    pa, plogp = J["sample_logp_rep"](c, X["params_u"], X["params_d"], X["s"], X["act_eps_pol"],
                                     -1.0 if "logp_sign" in bugs else 1.0)
    zt = noisy_point(t, pa[:, 0], X["act_eps_noisy"])
    ga = J["gauss_cands"](c, zt, t, X["act_trunc_n"])
    q = J["q_values"](c, pq1n, pq2n, X["s"], jnp.concatenate([pa, ga], axis=1))
    lw = J["log_weights"](c, q, zt, t, pa, plogp, alpha)
    w = J["snis_weights"](c, lw)
    es = J["ess_of"](c, w)
    vh = J["v_hat_of"](c, w, es, zt, t, pa, ga)
    up, ud = J["u_jvp"](c, X["params_u"], X["s"], zt, t, t - r, vh,
                        0.0 if "tangent_h0" in bugs else 1.0)
    ut = mf_target(vh, ud, t, r)
    al, gu = J["actor_loss_vg"](c, X["params_u"], X["s"], zt, t, t - r, ut)
    pun = J["adam"](c, X["params_u"], X["m_u"], X["v_u"], gu, c.lr_policy,
                    bias_correction="adam_nobc" not in bugs)
    out.update(act_t=t, act_r=r, pol_a=pa, pol_logp=plogp, z_t=zt, gauss_a=ga, q_all=q,
               log_w=lw, w=w, ess=es, v_hat=vh, u_pred=up, u_dot=ud, u_tgt=ut,
               actor_loss=al[None], grad_u=gu, params_u_new=pun)
    # (c) divergence
    t2, r2 = J["times"](c, X["div_tr_normal"])
    z2 = noisy_point(t2, pa[:, 0], X["div_eps"])
    v = J["u_apply"](c, pun, X["s"], z2, t2, jnp.zeros_like(t2))
    de, _ = J["hutchinson"](c, pun, X["s"], z2, t2, X["div_probes"])
    dp, dd = J["d_jvp"](c, X["params_d"], X["s"], z2, t2, t2 - r2, v)
    dt_ = mf_target(de, dd, t2, r2)
    dl, gd = J["div_loss_vg"](c, X["params_d"], X["s"], z2, t2, t2 - r2, dt_)
    pdn = J["adam"](c, X["params_d"], X["m_d"], X["v_d"], gd, c.lr_divergence)
    out.update(div_t=t2, div_r=r2, div_z_t=z2, div_v=v, div_est=de, d_pred=dp, d_dot=dd,
               d_tgt=dt_, div_loss=dl[None], grad_d=gd, params_d_new=pdn)
    # (d) temperature
    H = -jnp.mean(plogp)
    ga_ = jnp.exp(X["log_alpha"]) * (H - c.target_entropy)
    lan = (J["adam"](c, X["log_alpha"], X["m_alpha"], X["v_alpha"], ga_, c.lr_alpha)
           if c.auto_alpha else X["log_alpha"])
    out.update(entropy=H[None], alpha_loss=ga_, grad_log_alpha=ga_, log_alpha_new=lan)
    return out


# ----------------------------------------------------------------------------
# dump I/O
# ----------------------------------------------------------------------------
def read_dump(d):
    arrs = {}
    with open(os.path.join(d, "manifest.txt")) as f:
        for ln in f:
            parts = ln.split()
            if not parts:
                continue
            name, dims = parts[0], tuple(int(x) for x in parts[1:])
            raw = np.fromfile(os.path.join(d, name + ".bin"), dtype="<f4")
            n = int(np.prod(dims)) if dims else 1
            if raw.size != n:
                raise SystemExit(f"{name}.bin holds {raw.size} floats, manifest says {dims}")
            arrs[name] = raw.reshape(dims if dims else (1,))
    return arrs


def write_dump(d, c, arrs):
    os.makedirs(d, exist_ok=True)
    write_config(os.path.join(d, "config.txt"), c)
    with open(os.path.join(d, "manifest.txt"), "w") as f:
        for name, a in arrs.items():
            a = np.ascontiguousarray(np.asarray(a, dtype="<f4"))
            if a.ndim == 0:
                a = a.reshape(1)
            f.write(" ".join([name] + [str(x) for x in a.shape]) + "\n")
            a.tofile(os.path.join(d, name + ".bin"))


# ----------------------------------------------------------------------------
# checking
# ----------------------------------------------------------------------------
class Checker:
    def __init__(self):
        self.n_pass = 0
        self.n_fail = 0
        self.failed = []
        self.worst = {}

    def _line(self, name, ok, text):
        print(f"{name:<26} {text}  {'PASS' if ok else 'FAIL'}")
        if ok:
            self.n_pass += 1
        else:
            self.n_fail += 1
            self.failed.append(name)

    def fail(self, name, why):
        self._line(name, False, why)

    def check(self, name, lib, ref, atol, rtol, normrel=None, alt=None, tol_note=""):
        """|lib-ref| <= atol + rtol|ref| elementwise (atol may be an array);
        alt: an equally valid reference (row-wise choice, e.g. a min() tie)."""
        if lib is None:
            return self.fail(name, "MISSING from dump")
        lib = np.asarray(lib, np.float64)
        ref = np.asarray(ref, np.float64)
        if lib.shape != ref.shape:
            return self.fail(name, f"shape {lib.shape} != expected {ref.shape}")
        atol = np.broadcast_to(np.asarray(atol, np.float64), ref.shape)
        err = np.abs(lib - ref)
        if alt is not None:
            alt = np.asarray(alt, np.float64)
            ea = np.abs(lib - alt)
            if err.ndim >= 2:  # choose per row, whichever reference the row matches
                ax = tuple(range(1, err.ndim))
                use_alt = ea.max(axis=ax) < err.max(axis=ax)
                err = np.where(use_alt.reshape((-1,) + (1,) * (err.ndim - 1)), ea, err)
                ref = np.where(use_alt.reshape((-1,) + (1,) * (err.ndim - 1)), alt, ref)
            else:
                err = np.minimum(err, ea)
        finite = np.all(np.isfinite(lib))
        bound = atol + rtol * np.abs(ref)
        ok = bool(finite and np.all(err <= bound))
        max_abs = float(np.max(err)) if err.size else 0.0
        rel_mask = np.abs(ref) > atol
        max_rel = float(np.max(err[rel_mask] / np.abs(ref[rel_mask]))) if rel_mask.any() else 0.0
        ratio = float(np.max(err / bound)) if err.size else 0.0
        tol = f"atol={float(np.max(atol)):.2e}{'(elem,max)' if np.ptp(atol) > 0 else ''} rtol={rtol:.0e}"
        extra = ""
        if normrel is not None:
            nr = float(np.linalg.norm(lib - ref) / max(np.linalg.norm(ref), 1e-300))
            ok = ok and nr <= normrel
            extra = f" normrel={nr:.2e}<={normrel:.0e}"
            ratio = max(ratio, nr / normrel)
        if not finite:
            extra += " NON-FINITE"
        self.worst[name] = ratio
        self._line(name, ok, f"max_abs={max_abs:.3e} max_rel={max_rel:.3e} err/tol={ratio:.2e} "
                             f"tol[{tol}{extra}{tol_note}]")


# Tolerance table.  Symbols: E = EPS32; "scale" = max|ref| of the array unless a
# per-element scale is built in the check itself (error propagation through the
# one ill-conditioned operation of the stage, e.g. 1/(1-t), 1/t^2, Q/alpha).
TOL = {
    # sampler outputs: 2 Euler steps through u and d (f32 forward error ~1e-6)
    # (observed ~2e-6 abs for a float32 evaluation at the paper's sizes)
    "pol_a": dict(atol=1e-4, rtol=1e-4),
    "pol_logp": dict(atol=1e-4, rtol=1e-5),
    "crit_next_a": dict(atol=1e-4, rtol=1e-4),
    "crit_next_logp": dict(atol=1e-4, rtol=1e-5),
    # probabilities after projection; 1 ulp of y (|y| <= 1600) moves mass by ~E*|y|/dc*p
    "crit_target_dist": dict(atol=1e-4, rtol=1e-3),
    # means over B rows: a naive float32 sum of n terms has relative error up to ~n*E
    "crit_loss": dict(atol=1e-5, rtol=1e-4),
    # gradients: elementwise atol relative to max|g|, plus norm-relative error
    "grad": dict(atol_scale=1e-4, rtol=1e-3, normrel=1e-4),
    # Adam/Polyak given the library's gradient: only rounding (update err ~E*lr, param ulp)
    "adam": dict(atol_lr=1e-3, rtol=4e-6),
    # Polyak given the library's new online params: rounding only; atol relative to max|ref|
    "polyak": dict(atol_scale=1e-6, rtol=1e-5),
    "times": dict(atol=1e-6, rtol=1e-5),
    "noisy": dict(atol=5e-6, rtol=1e-5),   # (1-t)a + t eps, |eps| <= ~5
    # (z - t n)/(1-t): per-element atol = 100 E (1 + |z| + t|n|)/max(1-t, t_eps)
    "gauss_a": dict(coef=100 * EPS32, rtol=1e-5),
    # Q = softmax(logits).c: err <= max|logit err| * (v_max - v_min)
    "q_all": dict(atol_range=1e-5, rtol=1e-5),
    # log_w: per-element atol = 100 E * (|Q|/alpha + (d2 + 2|diff|(|z|+|a|))/(2 tg^2) + |logp| + 1)
    "log_w": dict(coef=100 * EPS32),
    # softmax of the library's own log_w: rounding only.  rtol=1e-4 also flags an
    # exp(l - logsumexp) implementation that loses digits when |l| ~ 1e5.
    "w": dict(atol=1e-6, rtol=1e-4),
    "ess": dict(atol=1e-6, rtol=1e-5),
    # v_hat: per-row atol = 100 E (1 + max|z - a|) / tg
    "v_hat": dict(coef=100 * EPS32, rtol=1e-5),
    # network outputs / JVPs: atol relative to the array's max magnitude
    "net": dict(atol_scale=1e-4, rtol=1e-3),
    # Hutchinson: per-row atol relative to sum_k |e_k (Je)_k| (cancellation scale)
    "div_est": dict(atol_scale=1e-4, rtol=1e-3),
    # MeanFlow targets from the library's v and vdot: rounding only
    "mf_target": dict(coef=100 * EPS32, rtol=1e-5),
    # mean squared error losses
    "mse_loss": dict(atol=1e-7, rtol=1e-4),
    "scalar": dict(atol=1e-7, rtol=1e-5),
    "entropy": dict(atol=1e-6, rtol=1e-4),   # mean over B*K1 (4096) log-likelihoods
    "trunc_bounds": dict(coef=100 * EPS32),
    # end-to-end (from inputs only)
    "e2e_sample": dict(atol=5e-4, rtol=1e-3),
    "e2e_logp": dict(atol=1e-3, rtol=1e-4),
    "e2e_dist": dict(atol=5e-4, rtol=1e-3),
    "e2e_loss": dict(atol=1e-4, rtol=1e-4),
    "e2e_grad": dict(atol_scale=1e-3, rtol=1e-2, normrel=1e-3),
    "e2e_gauss": dict(coef=1e-4, rtol=1e-4),
    "e2e_q": dict(atol_range=1e-4, rtol=1e-4),
}


def run_checks(c, L, e2e=True):
    """L: dict of library arrays (float32 from the dump).  Returns Checker."""
    ck = Checker()
    exp_sh = expected_shapes(c)
    missing_in = [k for k in INPUT_NAMES if k not in L]
    if missing_in:
        raise SystemExit("dump lacks inputs: " + " ".join(missing_in))
    for k in INPUT_NAMES:
        if tuple(L[k].shape) != exp_sh[k]:
            raise SystemExit(f"input {k} has shape {L[k].shape}, config implies {exp_sh[k]} "
                             f"(parameter layout or config mismatch)")
    F = {k: jnp.asarray(np.asarray(v, np.float64)) for k, v in L.items()}  # lib values in f64
    g = L.get

    reported = set()

    def have(*names):
        """All named library arrays present with the right shape?  Reports each bad one once."""
        bad = [n for n in names if n not in L or tuple(L[n].shape) != exp_sh[n]]
        for n in bad:
            if n not in reported:
                reported.add(n)
                ck.fail(n, "MISSING from dump" if n not in L else
                        f"shape {L[n].shape} != expected {exp_sh[n]}")
        return not bad

    alpha = jnp.exp(F["log_alpha"][0])
    vrange = c.v_max - c.v_min
    T = TOL

    def check_grad(name, ref):
        ref = np.asarray(ref)
        t_ = T["grad"]
        ck.check(name, g(name), ref, t_["atol_scale"] * np.max(np.abs(ref)), t_["rtol"], t_["normrel"])

    def check_adam(name, p, m, v, grad_lib, lr):
        ref = J["adam"](c, F[p], F[m], F[v], grad_lib, lr)
        ck.check(name, g(name), ref, T["adam"]["atol_lr"] * lr, T["adam"]["rtol"])

    def check_net(name, ref):
        ref = np.asarray(ref)
        ck.check(name, g(name), ref, T["net"]["atol_scale"] * max(np.max(np.abs(ref)), 1e-30),
                 T["net"]["rtol"])

    print("== teacher-forced checks (each stage from the library's own upstream values) ==")
    # ---------------- (a) critic ----------------
    na, nlogp = J["sample_logp"](c, F["params_u"], F["params_d"], F["s2"], F["crit_eps"])
    if have("crit_next_a"):
        ck.check("crit_next_a", g("crit_next_a"), na, **T["crit_next_a"])
    if have("crit_next_logp"):
        ck.check("crit_next_logp", g("crit_next_logp"), nlogp, **T["crit_next_logp"])
    if have("crit_next_a", "crit_next_logp"):
        tgt, pr1, pr2, m1, m2 = J["crit_target"](c, F["params_q1t"], F["params_q2t"], F["s2"],
                                                 F["crit_next_a"], F["crit_next_logp"],
                                                 F["r"], F["mask"], alpha)
        alt = None
        if c.clipped_double_q:  # near-ties of the two means: either projection is acceptable
            m1, m2 = np.asarray(m1), np.asarray(m2)
            tie = np.abs(m1 - m2) <= 1e-4 * vrange
            other = np.where((m2 < m1)[:, None], pr1, pr2)
            alt = np.where(tie[:, None], other, np.asarray(tgt))
        if have("crit_target_dist"):
            ck.check("crit_target_dist", g("crit_target_dist"), tgt, alt=alt, **T["crit_target_dist"])
    if have("crit_target_dist"):
        l1, g1 = J["crit_loss_vg"](c, F["params_q1"], F["s"], F["a"], F["crit_target_dist"])
        l2, g2 = J["crit_loss_vg"](c, F["params_q2"], F["s"], F["a"], F["crit_target_dist"])
        if have("crit_loss"):
            ck.check("crit_loss", g("crit_loss"), np.array([l1, l2]), **T["crit_loss"])
        if have("grad_q1"):
            check_grad("grad_q1", g1)
        if have("grad_q2"):
            check_grad("grad_q2", g2)
    for q in ("q1", "q2"):
        if have("grad_" + q):
            check_adam(f"params_{q}_new", "params_" + q, "m_" + q, "v_" + q, F["grad_" + q],
                       c.lr_critic)
        if have(f"params_{q}_new"):
            ref = np.asarray(polyak(c, F[f"params_{q}_new"], F[f"params_{q}t"]))
            ck.check(f"params_{q}t_new", g(f"params_{q}t_new"), ref,
                     T["polyak"]["atol_scale"] * np.max(np.abs(ref)), T["polyak"]["rtol"])
    # ---------------- (b) actor ----------------
    t, r = J["times"](c, F["act_tr_normal"])
    if have("act_t"):
        ck.check("act_t", g("act_t"), t, **T["times"])
    if have("act_r"):
        ck.check("act_r", g("act_r"), r, **T["times"])
    pa, plogp = J["sample_logp_rep"](c, F["params_u"], F["params_d"], F["s"], F["act_eps_pol"])
    if have("pol_a"):
        ck.check("pol_a", g("pol_a"), pa, **T["pol_a"])
    if have("pol_logp"):
        ck.check("pol_logp", g("pol_logp"), plogp, **T["pol_logp"])
    if have("act_t", "pol_a"):
        ck.check("z_t", g("z_t"), noisy_point(F["act_t"], F["pol_a"][:, 0], F["act_eps_noisy"]),
                 **T["noisy"])
    if have("act_t", "z_t"):
        tl, zl, n = np.asarray(F["act_t"]), np.asarray(F["z_t"]), np.asarray(F["act_trunc_n"])
        omt = np.maximum(1 - tl, c.t_eps)
        tg = np.maximum(tl, c.t_eps)
        ga_ref = J["gauss_cands"](c, F["z_t"], F["act_t"], F["act_trunc_n"])
        at = T["gauss_a"]["coef"] * (1 + np.abs(zl)[:, None, :] + tl[:, None, None] * np.abs(n)) \
            / omt[:, None, None]
        ck.check("gauss_a", g("gauss_a"), ga_ref, at, T["gauss_a"]["rtol"])
        # contract on the draws: n truncated so that (z - t n)/(1 - t) lies in [-1, 1]
        lo = (zl[:, None, :] - omt[:, None, None]) / tg[:, None, None]
        hi = (zl[:, None, :] + omt[:, None, None]) / tg[:, None, None]
        viol = np.maximum(np.maximum(lo - n, n - hi), 0.0)
        at = T["trunc_bounds"]["coef"] * (1 + np.abs(zl)[:, None, :] + np.abs(n)) / tg[:, None, None]
        ck.check("act_trunc_n(in bounds)", viol, np.zeros_like(viol), at, 0.0)
    if have("pol_a", "gauss_a", "params_q1_new", "params_q2_new"):
        q_ref = np.asarray(J["q_values"](c, F["params_q1_new"], F["params_q2_new"], F["s"],
                                         jnp.concatenate([F["pol_a"], F["gauss_a"]], axis=1)))
        if have("q_all"):
            ck.check("q_all", g("q_all"), q_ref, T["q_all"]["atol_range"] * vrange, T["q_all"]["rtol"])
    if have("q_all", "z_t", "act_t", "pol_a", "pol_logp"):
        lw_ref = np.asarray(J["log_weights"](c, F["q_all"], F["z_t"], F["act_t"], F["pol_a"],
                                             F["pol_logp"], alpha))
        tl = np.asarray(F["act_t"])
        tg = np.maximum(tl, c.t_eps)
        zl, al_, ql = np.asarray(F["z_t"]), np.asarray(F["pol_a"]), np.asarray(F["q_all"])
        diff = zl[:, None, :] - (1 - tl)[:, None, None] * al_
        d2 = np.sum(diff ** 2, -1)
        cross = 2 * np.linalg.norm(diff, axis=-1) * (np.linalg.norm(zl, axis=-1)[:, None]
                                                     + np.linalg.norm(al_, axis=-1))
        sc = np.abs(ql) / float(alpha) + 1.0
        sc[:, :c.k1] += (d2 + cross) / (2 * tg[:, None] ** 2) + np.abs(np.asarray(F["pol_logp"]))
        if have("log_w"):
            ck.check("log_w", g("log_w"), lw_ref, T["log_w"]["coef"] * sc, 0.0)
    if have("log_w"):
        w_ref = J["snis_weights"](c, F["log_w"])
        if have("w"):
            ck.check("w", g("w"), w_ref, **T["w"])
    if have("w"):
        if have("ess"):
            ck.check("ess", g("ess"), J["ess_of"](c, F["w"]), **T["ess"])
    if have("w", "ess", "z_t", "act_t", "pol_a", "gauss_a"):
        vh_ref = J["v_hat_of"](c, F["w"], F["ess"], F["z_t"], F["act_t"], F["pol_a"], F["gauss_a"])
        tl = np.asarray(F["act_t"])
        zl = np.asarray(F["z_t"])
        cand = np.concatenate([np.asarray(F["pol_a"]), np.asarray(F["gauss_a"])], 1)
        mx = np.max(np.abs(zl[:, None, :] - cand), axis=(1, 2))
        at = T["v_hat"]["coef"] * (1 + mx) / np.maximum(tl, c.t_eps)
        if have("v_hat"):
            ck.check("v_hat", g("v_hat"), vh_ref, at[:, None], T["v_hat"]["rtol"])
    if have("z_t", "act_t", "act_r", "v_hat"):
        h = F["act_t"] - F["act_r"]
        up, ud = J["u_jvp"](c, F["params_u"], F["s"], F["z_t"], F["act_t"], h, F["v_hat"])
        if have("u_pred"):
            check_net("u_pred", up)
        if have("u_dot"):
            check_net("u_dot", ud)
    if have("v_hat", "u_dot", "act_t", "act_r"):
        ut_ref = mf_target(F["v_hat"], F["u_dot"], F["act_t"], F["act_r"])
        hc = np.clip(np.asarray(F["act_t"] - F["act_r"]), 0, 1)
        at = T["mf_target"]["coef"] * (np.abs(np.asarray(F["v_hat"]))
                                       + hc[:, None] * np.abs(np.asarray(F["u_dot"])) + 1e-3)
        if have("u_tgt"):
            ck.check("u_tgt", g("u_tgt"), ut_ref, at, T["mf_target"]["rtol"])
    if have("z_t", "act_t", "act_r", "u_tgt"):
        al, gu = J["actor_loss_vg"](c, F["params_u"], F["s"], F["z_t"], F["act_t"],
                                    F["act_t"] - F["act_r"], F["u_tgt"])
        if have("actor_loss"):
            ck.check("actor_loss", g("actor_loss"), np.array([al]), **T["mse_loss"])
        if have("grad_u"):
            check_grad("grad_u", gu)
    if have("grad_u"):
        check_adam("params_u_new", "params_u", "m_u", "v_u", F["grad_u"], c.lr_policy)
    # ---------------- (c) divergence ----------------
    t2, r2 = J["times"](c, F["div_tr_normal"])
    if have("div_t"):
        ck.check("div_t", g("div_t"), t2, **T["times"])
    if have("div_r"):
        ck.check("div_r", g("div_r"), r2, **T["times"])
    if have("div_t", "pol_a"):
        ck.check("div_z_t", g("div_z_t"), noisy_point(F["div_t"], F["pol_a"][:, 0], F["div_eps"]),
                 **T["noisy"])
    if have("params_u_new", "div_z_t", "div_t"):
        v_ref = J["u_apply"](c, F["params_u_new"], F["s"], F["div_z_t"], F["div_t"],
                             jnp.zeros_like(F["div_t"]))
        if have("div_v"):
            check_net("div_v", v_ref)
        de_ref, de_sc = J["hutchinson"](c, F["params_u_new"], F["s"], F["div_z_t"], F["div_t"],
                                        F["div_probes"])
        if have("div_est"):
            de_sc = np.asarray(de_sc)
            ck.check("div_est", g("div_est"), de_ref,
                     T["div_est"]["atol_scale"] * np.maximum(de_sc, 1e-3 * np.max(de_sc)),
                     T["div_est"]["rtol"])
    if have("div_z_t", "div_t", "div_r", "div_v"):
        dp, dd = J["d_jvp"](c, F["params_d"], F["s"], F["div_z_t"], F["div_t"],
                            F["div_t"] - F["div_r"], F["div_v"])
        if have("d_pred"):
            check_net("d_pred", dp)
        if have("d_dot"):
            check_net("d_dot", dd)
    if have("div_est", "d_dot", "div_t", "div_r"):
        dt_ref = mf_target(F["div_est"], F["d_dot"], F["div_t"], F["div_r"])
        hc = np.clip(np.asarray(F["div_t"] - F["div_r"]), 0, 1)
        at = T["mf_target"]["coef"] * (np.abs(np.asarray(F["div_est"]))
                                       + hc * np.abs(np.asarray(F["d_dot"])) + 1e-3)
        if have("d_tgt"):
            ck.check("d_tgt", g("d_tgt"), dt_ref, at, T["mf_target"]["rtol"])
    if have("div_z_t", "div_t", "div_r", "d_tgt"):
        dl, gd = J["div_loss_vg"](c, F["params_d"], F["s"], F["div_z_t"], F["div_t"],
                                  F["div_t"] - F["div_r"], F["d_tgt"])
        if have("div_loss"):
            ck.check("div_loss", g("div_loss"), np.array([dl]), **T["mse_loss"])
        if have("grad_d"):
            check_grad("grad_d", gd)
    if have("grad_d"):
        check_adam("params_d_new", "params_d", "m_d", "v_d", F["grad_d"], c.lr_divergence)
    # ---------------- (d) temperature ----------------
    if have("pol_logp"):
        H = -jnp.mean(F["pol_logp"])
        if have("entropy"):
            ck.check("entropy", g("entropy"), np.array([H]), **T["entropy"])
    if have("entropy"):
        H = F["entropy"][0]
        ga_ref = np.exp(np.asarray(F["log_alpha"])) * (float(H) - c.target_entropy)
        at = 1e-5 * float(alpha) * (abs(float(H)) + abs(c.target_entropy)) + 1e-9
        for nm in ("alpha_loss", "grad_log_alpha"):
            if have(nm):
                ck.check(nm, g(nm), ga_ref, at, T["scalar"]["rtol"])
    if have("grad_log_alpha"):
        if c.auto_alpha:
            check_adam("log_alpha_new", "log_alpha", "m_alpha", "v_alpha", F["grad_log_alpha"],
                       c.lr_alpha)
        else:
            ck.check("log_alpha_new", g("log_alpha_new"), F["log_alpha"], 0.0, 0.0)

    # ---------------- end-to-end ----------------
    if e2e:
        print("== end-to-end checks (everything from the inputs only, well-conditioned quantities) ==")
        inp = {k: F[k] for k in INPUT_NAMES}
        R = {k: np.asarray(v) for k, v in full_update(c, inp).items()}
        E = lambda n: "e2e:" + n  # noqa: E731
        for n in ("crit_next_a", "pol_a"):
            if n in L:
                ck.check(E(n), g(n), R[n], **T["e2e_sample"])
        for n in ("crit_next_logp", "pol_logp"):
            if n in L:
                ck.check(E(n), g(n), R[n], **T["e2e_logp"])
        for n in ("act_t", "act_r", "div_t", "div_r"):
            if n in L:
                ck.check(E(n), g(n), R[n], **T["times"])
        for n in ("z_t", "div_z_t"):
            if n in L:
                ck.check(E(n), g(n), R[n], **T["e2e_sample"])
        if "crit_target_dist" in L:
            alt = None
            if c.clipped_double_q:
                _, pr1, pr2, m1, m2 = J["crit_target"](
                    c, F["params_q1t"], F["params_q2t"], F["s2"], jnp.asarray(R["crit_next_a"]),
                    jnp.asarray(R["crit_next_logp"]), F["r"], F["mask"], alpha)
                m1, m2 = np.asarray(m1), np.asarray(m2)
                tie = np.abs(m1 - m2) <= 1e-3 * vrange
                alt = np.where(tie[:, None], np.where((m2 < m1)[:, None], pr1, pr2),
                               R["crit_target_dist"])
            ck.check(E("crit_target_dist"), g("crit_target_dist"), R["crit_target_dist"], alt=alt,
                     **T["e2e_dist"])
        if "crit_loss" in L:
            ck.check(E("crit_loss"), g("crit_loss"), R["crit_loss"], **T["e2e_loss"])
        for n in ("grad_q1", "grad_q2"):
            if n in L:
                t_ = T["e2e_grad"]
                ck.check(E(n), g(n), R[n], t_["atol_scale"] * np.max(np.abs(R[n])), t_["rtol"],
                         t_["normrel"])
        if "gauss_a" in L:
            tl, zl = R["act_t"], R["z_t"]
            n = np.asarray(F["act_trunc_n"])
            omt = np.maximum(1 - tl, c.t_eps)
            at = T["e2e_gauss"]["coef"] * (1 + np.abs(zl)[:, None, :] + tl[:, None, None] * np.abs(n)) \
                / omt[:, None, None]
            ck.check(E("gauss_a"), g("gauss_a"), R["gauss_a"], at, T["e2e_gauss"]["rtol"])
        if "q_all" in L:
            ck.check(E("q_all"), g("q_all"), R["q_all"], T["e2e_q"]["atol_range"] * vrange,
                     T["e2e_q"]["rtol"])
        if "entropy" in L:
            ck.check(E("entropy"), g("entropy"), R["entropy"], **T["e2e_logp"])
        for n in ("alpha_loss", "grad_log_alpha"):
            if n in L:
                at = 1e-4 * float(alpha) * (abs(float(R["entropy"][0])) + abs(c.target_entropy))
                ck.check(E(n), g(n), R[n], at, 1e-4)
    return ck


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump_dir")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end pass")
    args = ap.parse_args(argv)
    c = parse_config(os.path.join(args.dump_dir, "config.txt"))
    L = read_dump(args.dump_dir)
    print(f"config: S={c.obs_dim} A={c.act_dim} hidden={c.hidden} depth={c.depth} B={c.batch} "
          f"K1={c.k1} K2={c.k2} P={c.probes} N={c.atoms} steps={c.steps} "
          f"cdq={c.clipped_double_q} auto_alpha={c.auto_alpha} adam_step={c.adam_step} "
          f"alpha={float(np.exp(L['log_alpha'][0])):.4g}")
    ck = run_checks(c, L, e2e=not args.no_e2e)
    print(f"{ck.n_pass} passed, {ck.n_fail} failed")
    return 1 if ck.n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
