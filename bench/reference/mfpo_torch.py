#!/usr/bin/env python3
"""One MFPO update in PyTorch (float32, CPU): the side-by-side reference of bench/.

The same update as lib/algo/update.c (docs/algorithm.md §4, all four stages, with the
semantics tests/reference/README.md pins down), written the way a PyTorch user would write it:
nn.Linear / nn.LayerNorm modules, torch.optim.Adam, forward-mode JVPs with functorch.jvp
(torch.func.jvp on PyTorch >= 2.0). The one deliberate economy: the sampler's time embedding is
computed once per sampling step (one row, broadcast) rather than once per row.

Network layout and initialization are those of lib/nn/net.h: Xavier-uniform kernels, zero
biases, LayerNorm (eps 1e-6) scale 1 / shift 0 before a tanh-GELU on every hidden layer, Fourier
frequencies N(0, 0.2^2); u and d read concat(z, s, E_t(t) + E_h(h)), the critics concat(s, a).

Two modes:

  mfpo_torch.py [--obs 17] [--act 6] [--threads 1] [--updates 20] [--warmup 3] [--seed 0]
      times `updates` updates after `warmup` untimed ones on random transitions and prints
      RESULT torch_update obs=.. act=.. threads=.. ms=<median> p10=.. p90=..

  mfpo_torch.py --check-dump DIR
      DIR is written by tests/algo/reference_dump (format: tests/reference/README.md). Loads the
      weights, Adam moments, batch and every random draw of that update, runs this update on them
      and compares its losses with the library's (crit_loss, actor_loss, div_loss):
        end-to-end: everything from the dump's inputs only;
        teacher-forced: each loss from the library's own upstream values (as the JAX reference
          does), which isolates the loss computation from the ill-conditioned SNIS softmax
          (Q / alpha ~ 1e5) upstream of actor_loss and div_loss.
      Prints RESULT torch_check ... and exits 1 on a failure.

--threads sets torch.set_num_threads and OpenBLAS's thread count (PyTorch's BLAS calls go to
Debian's OpenBLAS, whose pool torch.set_num_threads does not control). Source
scripts/openblas-env.sh first on CPUs that Debian's OpenBLAS 0.3.21 misdetects.
"""
import argparse
import ctypes
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:  # PyTorch >= 2.0
    from torch.func import jvp
except ImportError:  # PyTorch 1.13 (Debian bookworm's python3-torch)
    from functorch import jvp

T_EPS = 1e-5  # division guard of lib/backend/kernels_common.h (MFPO_T_EPS) and the reference


# ----------------------------------------------------------------------------------------------
# configuration: mfpo_agent_config_init() defaults (lib/algo/config.c)
# ----------------------------------------------------------------------------------------------
class Config:
    def __init__(self, obs_dim, act_dim, **kw):
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.hidden, self.depth, self.steps = 256, 3, 2
        self.k1, self.k2, self.probes, self.atoms = 16, 32, 2, 101
        self.v_min, self.v_max, self.gamma, self.tau = -1600.0, 1600.0, 0.99, 0.005
        self.lr_policy = self.lr_divergence = self.lr_critic = self.lr_alpha = 3e-4
        self.init_alpha, self.auto_alpha = 0.01, 1
        self.target_entropy = -0.5 * act_dim
        self.clipped_double_q, self.batch, self.flow_fraction = 1, 256, 0.75
        self.time_mean, self.time_std = -0.4, 1.0
        self.fourier, self.time_dim, self.fourier_std = 64, 64, 0.2
        self.adam_beta1, self.adam_beta2, self.adam_eps = 0.9, 0.999, 1e-8
        for k, v in kw.items():
            if not hasattr(self, k):
                raise KeyError(k)
            setattr(self, k, v)

    def flow_rows(self):
        # rows < floor(flow_fraction * B) get r = t; the library computes this in double
        return int(math.floor(self.flow_fraction * self.batch + 1e-9))


# ----------------------------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------------------------
def gelu(x):
    return F.gelu(x, approximate="tanh")


def init_linear(lin):
    nn.init.xavier_uniform_(lin.weight)
    nn.init.zeros_(lin.bias)
    return lin


class TimeEmbed(nn.Module):
    """E(x): [cos 2 pi x W, sin 2 pi x W] -> Dense D -> GELU -> Dense D (no LayerNorm)."""

    def __init__(self, c):
        super().__init__()
        self.freq = nn.Parameter(torch.randn(c.fourier) * c.fourier_std)
        self.l1 = init_linear(nn.Linear(2 * c.fourier, c.time_dim))
        self.l2 = init_linear(nn.Linear(c.time_dim, c.time_dim))

    def forward(self, x):  # x: (m,)
        f = (2.0 * math.pi) * x[:, None] * self.freq
        return self.l2(gelu(self.l1(torch.cat([torch.cos(f), torch.sin(f)], dim=-1))))

    def c_order(self):
        return [(self.freq, False), (self.l1.weight, True), (self.l1.bias, False),
                (self.l2.weight, True), (self.l2.bias, False)]


class MLP(nn.Module):
    """depth x [Dense H -> LayerNorm -> GELU] -> Dense out."""

    def __init__(self, c, din, dout):
        super().__init__()
        self.layers = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(c.depth):
            self.layers.append(init_linear(nn.Linear(din if i == 0 else c.hidden, c.hidden)))
            self.norms.append(nn.LayerNorm(c.hidden, eps=1e-6))
        self.head = init_linear(nn.Linear(c.hidden, dout))

    def forward(self, x):
        for lin, ln in zip(self.layers, self.norms):
            x = gelu(ln(lin(x)))
        return self.head(x)

    def c_order(self):
        out = []
        for lin, ln in zip(self.layers, self.norms):
            out += [(lin.weight, True), (lin.bias, False), (ln.weight, False), (ln.bias, False)]
        return out + [(self.head.weight, True), (self.head.bias, False)]


class FlowNet(nn.Module):
    """u(s, z, t, h) (out = A) or d(s, z, t, h) (out = 1): MLP over concat(z, s, E_t(t) + E_h(h))."""

    def __init__(self, c, out):
        super().__init__()
        self.emb_t, self.emb_h = TimeEmbed(c), TimeEmbed(c)
        self.mlp = MLP(c, c.act_dim + c.obs_dim + c.time_dim, out)

    def forward(self, s, z, t, h):
        # t, h: (n,) per row, or (1,): one embedding for every row (the sampler's fixed grid)
        cond = self.emb_t(t) + self.emb_h(h)
        if cond.shape[0] != z.shape[0]:
            cond = cond.expand(z.shape[0], -1)
        return self.mlp(torch.cat([z, s, cond], dim=-1))

    def c_order(self):
        return self.emb_t.c_order() + self.emb_h.c_order() + self.mlp.c_order()


class Critic(nn.Module):
    """Distributional critic: logits over `atoms` atoms from concat(s, a)."""

    def __init__(self, c):
        super().__init__()
        self.mlp = MLP(c, c.obs_dim + c.act_dim, c.atoms)

    def forward(self, s, a):
        return self.mlp(torch.cat([s, a], dim=-1))

    def c_order(self):
        return self.mlp.c_order()


def load_flat(pairs, flat):
    """Copies a flat vector in lib/nn/net.h's layout (kernels [in x out]) into the tensors."""
    flat = torch.as_tensor(np.asarray(flat, dtype=np.float32))
    at = 0
    with torch.no_grad():
        for p, transposed in pairs:
            n = p.numel()
            v = flat[at:at + n]
            p.copy_(v.view(p.shape[1], p.shape[0]).t() if transposed else v.view(p.shape))
            at += n
    if at != flat.numel():
        raise SystemExit(f"parameter vector has {flat.numel()} floats, the layout needs {at}")


def to_flat(pairs):
    return torch.cat([(p.t() if tr else p).reshape(-1) for p, tr in pairs]).detach()


def truncated_normal(lo, hi):
    """Standard normal truncated to [lo, hi] by inversion, on the lower tail for precision."""
    flip = lo > 0
    low, high = torch.where(flip, -hi, lo), torch.where(flip, -lo, hi)
    pl, ph = torch.special.ndtr(low), torch.special.ndtr(high)
    x = torch.special.ndtri(pl + torch.rand_like(low) * (ph - pl))
    x = torch.maximum(torch.minimum(x, high), low)
    return torch.where(flip, -x, x)


# ----------------------------------------------------------------------------------------------
# the agent and its update
# ----------------------------------------------------------------------------------------------
class MFPO:
    def __init__(self, c):
        self.c = c
        self.u, self.d = FlowNet(c, c.act_dim), FlowNet(c, 1)
        self.q = nn.ModuleList([Critic(c), Critic(c)])
        self.q_target = nn.ModuleList([Critic(c), Critic(c)])
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.requires_grad_(False)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(c.init_alpha)))
        adam = dict(betas=(c.adam_beta1, c.adam_beta2), eps=c.adam_eps)
        self.opt_q = torch.optim.Adam(self.q.parameters(), lr=c.lr_critic, **adam)
        self.opt_u = torch.optim.Adam(self.u.parameters(), lr=c.lr_policy, **adam)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=c.lr_divergence, **adam)
        self.opt_alpha = torch.optim.Adam([self.log_alpha], lr=c.lr_alpha, **adam)
        self.atoms = torch.linspace(c.v_min, c.v_max, c.atoms)
        self.tap = lambda name, x: x  # --check-dump records (and may replace) intermediates

    # -- §3 sampler ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, s, eps, with_logp=True):
        A, T = self.c.act_dim, self.c.steps
        h = 1.0 / T
        z = eps
        logp = -0.5 * (eps * eps).sum(-1) - 0.5 * A * math.log(2.0 * math.pi) if with_logp else None
        hv = torch.full((1,), h)
        for i in range(T, 0, -1):
            tv = torch.full((1,), i / T)  # one time row per step, broadcast over the rows
            vel = self.u(s, z, tv, hv)
            if with_logp:
                logp = logp + h * self.d(s, z, tv, hv)[:, 0]  # d at z before it moves
            z = z - h * vel
        return z.clamp(-1.0, 1.0), logp

    def expected_q(self, logits):
        return torch.softmax(logits, dim=-1) @ self.atoms

    def combine(self, a, b):
        return torch.minimum(a, b) if self.c.clipped_double_q else 0.5 * (a + b)

    def project(self, p, y):
        """C51 projection of masses p placed at y onto the fixed atoms."""
        c = self.c
        b = (y - c.v_min) / ((c.v_max - c.v_min) / (c.atoms - 1))
        lo, hi = b.floor().clamp(0, c.atoms - 1), b.ceil().clamp(0, c.atoms - 1)
        same = lo == hi
        w_lo = torch.where(same, p, p * (hi - b))
        w_hi = torch.where(same, torch.zeros_like(p), p * (b - lo))
        out = torch.zeros_like(p)
        out.scatter_add_(1, lo.long(), w_lo)
        out.scatter_add_(1, hi.long(), w_hi)
        return out

    def flow_times(self, normals):
        c = self.c
        x = torch.sigmoid(c.time_mean + c.time_std * normals)
        t, r = x.max(dim=1).values, x.min(dim=1).values
        r = r.clone()
        r[:c.flow_rows()] = t[:c.flow_rows()]
        return t, r

    def update(self, batch, draws=None):
        """One update (docs/algorithm.md §4 a–d). `draws`: the update's random numbers (else fresh ones)."""
        c, tap = self.c, self.tap
        s, a, r, s2, mask = batch
        B, S, A, K1, K2, P = s.shape[0], c.obs_dim, c.act_dim, c.k1, c.k2, c.probes
        draw = (lambda name, *shape: draws[name]) if draws else (lambda name, *shape: torch.randn(*shape))
        alpha = self.log_alpha.detach().exp()  # alpha before (d)

        # (a) critic ------------------------------------------------------------------------------
        with torch.no_grad():
            next_a, next_logp = self.sample(s2, draw("crit_eps", B, A))
            next_a, next_logp = tap("crit_next_a", next_a), tap("crit_next_logp", next_logp)
            y = (r[:, None] + c.gamma * mask[:, None] * (self.atoms[None, :] - alpha * next_logp[:, None]))
            y = y.clamp(c.v_min, c.v_max)
            proj = [self.project(torch.softmax(qt(s2, next_a), dim=-1), y) for qt in self.q_target]
            tap("crit_proj", torch.stack(proj))
            if c.clipped_double_q:
                target = torch.where((proj[1] @ self.atoms < proj[0] @ self.atoms)[:, None], proj[1], proj[0])
            else:
                target = 0.5 * (proj[0] + proj[1])
            target = tap("crit_target_dist", target)
        crit_losses = [-(target * torch.log_softmax(q(s, a), dim=-1)).sum(-1).mean() for q in self.q]
        self.opt_q.zero_grad()
        (crit_losses[0] + crit_losses[1]).backward()
        self.opt_q.step()
        with torch.no_grad():
            for qt, q in zip(self.q_target, self.q):
                for pt, p in zip(qt.parameters(), q.parameters()):
                    pt.lerp_(p, c.tau)
        tap("critic_params_new", None)

        # (b) actor -------------------------------------------------------------------------------
        with torch.no_grad():
            t, r_ = self.flow_times(draw("act_tr_normal", B, 2))
            t, r_ = tap("act_t", t), tap("act_r", r_)
            h = t - r_
            eps_pol = draw("act_eps_pol", B, K1, A).reshape(B * K1, A)
            pol_a, pol_logp = self.sample(s.repeat_interleave(K1, dim=0), eps_pol)  # row b K1 + j: state b
            pol_a, pol_logp = tap("pol_a", pol_a.view(B, K1, A)), tap("pol_logp", pol_logp.view(B, K1))
            z_t = (1.0 - t)[:, None] * pol_a[:, 0] + t[:, None] * draw("act_eps_noisy", B, A)
            z_t = tap("z_t", z_t)
            tg, omt = t.clamp_min(T_EPS), (1.0 - t).clamp_min(T_EPS)
            if draws:
                n = draws["act_trunc_n"]
            else:
                lo = (z_t - (1.0 - t)[:, None]) / tg[:, None]
                hi = (z_t + (1.0 - t)[:, None]) / tg[:, None]
                n = truncated_normal(lo[:, None, :].expand(B, K2, A), hi[:, None, :].expand(B, K2, A))
            gauss_a = ((z_t[:, None, :] - t[:, None, None] * n) / omt[:, None, None]).clamp(-1.0, 1.0)
            gauss_a = tap("gauss_a", gauss_a)
            cand = torch.cat([pol_a, gauss_a], dim=1)  # B x (K1 + K2) x A
            s_rep = s[:, None, :].expand(B, K1 + K2, S).reshape(-1, S)
            q1, q2 = (self.expected_q(q(s_rep, cand.reshape(-1, A))) for q in self.q)
            q_all = tap("q_all", self.combine(q1, q2).view(B, K1 + K2))
            d2 = ((z_t[:, None, :] - (1.0 - t)[:, None, None] * pol_a) ** 2).sum(-1)
            log_w = torch.cat([q_all[:, :K1] / alpha - d2 / (2.0 * tg[:, None] ** 2) - pol_logp,
                               q_all[:, K1:] / alpha], dim=1)
            log_w = tap("log_w", log_w)
            w = tap("w", torch.cat([torch.softmax(log_w[:, :K1], 1), torch.softmax(log_w[:, K1:], 1)], 1))
            ess = tap("ess", torch.stack([1.0 / (w[:, :K1] ** 2).sum(1), 1.0 / (w[:, K1:] ** 2).sum(1)], 1))
            v1 = (w[:, :K1, None] * (z_t[:, None, :] - pol_a)).sum(1) / tg[:, None]
            v2 = (w[:, K1:, None] * (z_t[:, None, :] - gauss_a)).sum(1) / tg[:, None]
            v_hat = tap("v_hat", (ess[:, :1] * v1 + ess[:, 1:] * v2) / (ess[:, :1] + ess[:, 1:]))
            entropy = tap("entropy", -pol_logp.mean())
        # MeanFlow: (u, du) along (v_hat, dt = 1, dr = 0), i.e. dh = 1
        ones = torch.ones(B)
        u_pred, u_dot = jvp(lambda zz, tt, hh: self.u(s, zz, tt, hh), (z_t, t, h), (v_hat, ones, ones))
        u_tgt = tap("u_tgt", (v_hat - h.clamp(0.0, 1.0)[:, None] * u_dot).detach())
        actor_loss = ((u_pred - u_tgt) ** 2).mean()
        self.opt_u.zero_grad()
        actor_loss.backward()
        self.opt_u.step()
        tap("u_params_new", None)

        # (c) divergence --------------------------------------------------------------------------
        with torch.no_grad():
            t2, r2 = self.flow_times(draw("div_tr_normal", B, 2))
            t2, r2 = tap("div_t", t2), tap("div_r", r2)
            h2 = t2 - r2
            z2 = tap("div_z_t", (1.0 - t2)[:, None] * pol_a[:, 0] + t2[:, None] * draw("div_eps", B, A))
            probes = draw("div_probes", P, B, A)
            zeros = torch.zeros(B)
            div_est = torch.zeros(B)
            for p in range(P):  # Hutchinson: e^T (dv/dz) e with v = u(s, z, t, 0)
                v, je = jvp(lambda zz: self.u(s, zz, t2, zeros), (z2,), (probes[p],))
                div_est += (probes[p] * je).sum(-1) / P
            v, div_est = tap("div_v", v), tap("div_est", div_est)
        d_pred, d_dot = jvp(lambda zz, tt, hh: self.d(s, zz, tt, hh)[:, 0], (z2, t2, h2), (v, ones, ones))
        d_tgt = tap("d_tgt", (div_est - h2.clamp(0.0, 1.0) * d_dot).detach())
        div_loss = ((d_pred - d_tgt) ** 2).mean()
        self.opt_d.zero_grad()
        div_loss.backward()
        self.opt_d.step()

        # (d) temperature -------------------------------------------------------------------------
        alpha_loss = self.log_alpha.exp() * (entropy - c.target_entropy)
        if c.auto_alpha:
            self.opt_alpha.zero_grad()
            alpha_loss.backward()
            self.opt_alpha.step()
        return dict(crit_loss=[float(x) for x in crit_losses], actor_loss=float(actor_loss),
                    div_loss=float(div_loss), alpha_loss=float(alpha_loss), entropy=float(entropy))


# ----------------------------------------------------------------------------------------------
# OpenBLAS (PyTorch's BLAS on Debian)
# ----------------------------------------------------------------------------------------------
def openblas():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib
    except (OSError, AttributeError):
        return None


def set_threads(n):
    torch.set_num_threads(n)
    lib = openblas()
    if lib is not None:
        lib.openblas_set_num_threads(n)


def print_env(threads):
    lib = openblas()
    core = lib.openblas_get_corename().decode() if lib else "?"
    config = lib.openblas_get_config().decode() if lib else "?"
    print(f"INFO torch={torch.__version__} threads={threads} torch_threads={torch.get_num_threads()} "
          f"jvp={jvp.__module__}.jvp")
    print(f"INFO openblas core={core} coretype_env={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f'config="{config}"')
    sys.stdout.flush()


# ----------------------------------------------------------------------------------------------
# benchmark mode
# ----------------------------------------------------------------------------------------------
def bench(args):
    set_threads(args.threads)
    print_env(args.threads)
    torch.manual_seed(args.seed)
    c = Config(args.obs, args.act)
    agent = MFPO(c)
    n = 20000
    data = (torch.rand(n, c.obs_dim) * 2 - 1, torch.rand(n, c.act_dim) * 2 - 1, torch.rand(n) * 2 - 1,
            torch.rand(n, c.obs_dim) * 2 - 1, (torch.arange(n) % 97 != 0).float())
    times = []
    for i in range(args.warmup + args.updates):
        t0 = time.perf_counter()
        idx = torch.randint(0, n, (c.batch,))
        out = agent.update([x[idx] for x in data])
        t1 = time.perf_counter()
        if i >= args.warmup:
            times.append((t1 - t0) * 1e3)
    q = np.percentile(np.array(times), [10, 50, 90])
    print(f"INFO torch_update losses crit={out['crit_loss']} actor={out['actor_loss']:.6g} "
          f"div={out['div_loss']:.6g} alpha={math.exp(float(agent.log_alpha)):.6g}")
    print(f"RESULT torch_update obs={c.obs_dim} act={c.act_dim} threads={args.threads} ms={q[1]:.3f} "
          f"p10={q[0]:.3f} p90={q[2]:.3f}")
    if args.infer_calls > 0:
        bench_infer(agent, c, args)


@torch.no_grad()
def bench_infer(agent, c, args):
    """Batch-1 latency, as bench_infer measures libmfpo's: a plain 2-step sample, and the selection of
    the best of 10 candidates by the target critics (median over --infer-calls calls each)."""
    s1 = torch.rand(1, c.obs_dim) * 2 - 1

    def sample():
        return agent.sample(s1, torch.randn(1, c.act_dim), with_logp=False)[0]

    def select10():
        s = s1.expand(10, c.obs_dim)
        a = agent.sample(s, torch.randn(10, c.act_dim), with_logp=False)[0]
        q = agent.combine(*(agent.expected_q(qn(s, a)) for qn in agent.q_target))
        return a[int(torch.argmax(q))]

    med = {}
    for name, fn in (("sample", sample), ("select10", select10)):
        for _ in range(50):
            fn()
        ts = []
        for _ in range(args.infer_calls):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1e6)
        med[name] = float(np.median(ts))
    print(f"RESULT torch_infer obs={c.obs_dim} act={c.act_dim} threads={args.threads} "
          f"sample_us={med['sample']:.1f} select10_us={med['select10']:.1f}")


# ----------------------------------------------------------------------------------------------
# numerics check against a dump of the C library (tests/algo/reference_dump)
# ----------------------------------------------------------------------------------------------
def read_dump(d):
    arrs = {}
    with open(os.path.join(d, "manifest.txt")) as f:
        for ln in f:
            parts = ln.split()
            if parts:
                dims = tuple(int(x) for x in parts[1:])
                raw = np.fromfile(os.path.join(d, parts[0] + ".bin"), dtype="<f4")
                arrs[parts[0]] = raw.reshape(dims)
    cfg = {}
    with open(os.path.join(d, "config.txt")) as f:
        for ln in f:
            if "=" in ln:
                k, _, v = ln.strip().partition("=")
                cfg[k] = float(v)
    return arrs, cfg


def agent_from_dump(L, k):
    i = lambda name: int(round(k[name]))  # noqa: E731
    c = Config(i("obs_dim"), i("act_dim"), hidden=i("hidden"), depth=i("depth"), steps=i("steps"), k1=i("k1"),
               k2=i("k2"), probes=i("probes"), atoms=i("atoms"), v_min=k["v_min"], v_max=k["v_max"],
               gamma=k["gamma"], tau=k["tau"], lr_policy=k["lr_policy"], lr_divergence=k["lr_divergence"],
               lr_critic=k["lr_critic"], lr_alpha=k["lr_alpha"], clipped_double_q=i("clipped_double_q"),
               auto_alpha=i("auto_alpha"), target_entropy=k["target_entropy"], flow_fraction=k["flow_fraction"],
               batch=i("batch"), adam_beta1=k["adam_beta1"], adam_beta2=k["adam_beta2"],
               adam_eps=k["adam_eps"], fourier=i("fourier"), time_dim=i("time_dim"))
    ag = MFPO(c)
    nets = {"u": ag.u, "d": ag.d, "q1": ag.q[0], "q2": ag.q[1], "q1t": ag.q_target[0], "q2t": ag.q_target[1]}
    for name, net in nets.items():
        load_flat(net.c_order(), L["params_" + name])
    with torch.no_grad():
        ag.log_alpha.copy_(torch.tensor(float(L["log_alpha"][0])))
    # Adam moments and step counts as the library had them before this update
    step = torch.tensor(float(k["adam_step"]))
    moments = [(ag.opt_q, [("q1", ag.q[0]), ("q2", ag.q[1])]), (ag.opt_u, [("u", ag.u)]), (ag.opt_d, [("d", ag.d)])]
    for opt, parts in moments:
        for name, net in parts:
            pairs = net.c_order()
            m = [torch.zeros_like(p) for p, _ in pairs]
            v = [torch.zeros_like(p) for p, _ in pairs]
            load_flat(list(zip(m, [tr for _, tr in pairs])), L["m_" + name])
            load_flat(list(zip(v, [tr for _, tr in pairs])), L["v_" + name])
            for (p, _), mm, vv in zip(pairs, m, v):
                opt.state[p] = {"step": step.clone(), "exp_avg": mm, "exp_avg_sq": vv}
    ag.opt_alpha.state[ag.log_alpha] = {"step": step.clone(), "exp_avg": torch.tensor(float(L["m_alpha"][0])),
                                       "exp_avg_sq": torch.tensor(float(L["v_alpha"][0]))}
    return ag, nets


DRAWS = ("crit_eps", "act_tr_normal", "act_eps_pol", "act_eps_noisy", "act_trunc_n", "div_tr_normal", "div_eps",
         "div_probes")
EPS32 = float(np.finfo(np.float32).eps)


def run_dump(L, k, teacher_forced):
    """Runs this update on a dump. Returns (losses, recorded intermediates, flat gradients).

    Teacher-forced: every recorded intermediate is replaced, once recorded, by the library's
    value, and the critics and u after their Adam steps by the library's; so each quantity is
    this implementation's function of the library's own upstream values."""
    ag, nets = agent_from_dump(L, k)
    T = lambda x: torch.as_tensor(np.ascontiguousarray(x))  # noqa: E731
    seen = {}

    def tap(name, x):
        if x is None:  # after an Adam step
            if teacher_forced and name == "critic_params_new":
                for q in ("q1", "q2", "q1t", "q2t"):
                    load_flat(nets[q].c_order(), L[f"params_{q}_new"])
            if teacher_forced and name == "u_params_new":
                load_flat(nets["u"].c_order(), L["params_u_new"])
            return x
        seen[name] = x.detach().clone()
        if teacher_forced and name in L:
            return T(L[name]).view(x.shape) if x.dim() else T(L[name]).reshape(())
        return x

    ag.tap = tap
    batch = [T(L[n]) for n in ("s", "a", "r", "s2", "mask")]
    out = ag.update(batch, {n: T(L[n]) for n in DRAWS})
    grads = {n: torch.cat([(p.grad.t() if tr else p.grad).reshape(-1) for p, tr in nets[n].c_order()])
             for n in ("q1", "q2", "u", "d")}
    return out, seen, grads


class Report:
    def __init__(self):
        self.failed, self.n = [], 0

    def check(self, name, mine, ref, atol, rtol, normrel=None, alt=None, info=False):
        mine = np.asarray(mine, np.float64).reshape(np.shape(ref))
        ref = np.asarray(ref, np.float64)
        err = np.abs(mine - ref)
        if alt is not None:  # rows that may equally match another reference (clipped double-Q ties)
            ea = np.abs(mine - alt).max(axis=1, keepdims=True)
            err = np.where(ea < err.max(axis=1, keepdims=True), np.abs(mine - alt), err)
        bound = np.broadcast_to(np.asarray(atol, np.float64), ref.shape) + rtol * np.abs(ref)
        ratio = float(np.max(err / bound)) if err.size else 0.0
        ok = bool(np.all(np.isfinite(mine)) and ratio <= 1.0)
        extra = ""
        if normrel is not None:
            nr = float(np.linalg.norm(mine - ref) / max(np.linalg.norm(ref), 1e-300))
            ok = ok and nr <= normrel
            extra = f" normrel={nr:.2e}<={normrel:.0e}"
        if not info:
            self.n += 1
            if not ok:
                self.failed.append(name)
        verdict = "info" if info else ("PASS" if ok else "FAIL")
        print(f"{name:<30} max_abs={float(np.max(err)):.3e} err/tol={ratio:.2e}{extra}  {verdict}")


def check_dump(args):
    """Losses (and, for diagnosis power, the stages' key intermediates and gradients) of this
    update against the library's dump. Tolerances are those of tests/reference/README.md."""
    set_threads(args.threads)
    print_env(args.threads)
    L, k = read_dump(args.check_dump)
    c = agent_from_dump(L, k)[0].c
    print(f"INFO dump {args.check_dump}: S={c.obs_dim} A={c.act_dim} hidden={c.hidden} depth={c.depth} "
          f"B={c.batch} K1={c.k1} K2={c.k2} atoms={c.atoms} adam_step={int(k['adam_step'])} "
          f"cdq={c.clipped_double_q}")
    vrange = c.v_max - c.v_min
    rep = Report()
    losses = {}

    def net_tol(ref):  # network outputs and JVPs: 1e-4 max|ref| + 1e-3 |ref|
        return 1e-4 * max(float(np.max(np.abs(ref))), 1e-30), 1e-3

    def ties(seen, tol):  # clipped double-Q: rows whose projected means nearly tie may use either
        if not c.clipped_double_q or "crit_proj" not in seen:
            return None
        pr = seen["crit_proj"].numpy().astype(np.float64)
        atoms = np.linspace(c.v_min, c.v_max, c.atoms)
        m1, m2 = pr[0] @ atoms, pr[1] @ atoms
        chosen = np.where((m2 < m1)[:, None], pr[1], pr[0])
        other = np.where((m2 < m1)[:, None], pr[0], pr[1])
        return np.where((np.abs(m1 - m2) <= tol * vrange)[:, None], other, chosen)

    for mode in ("e2e", "tf"):
        tf = mode == "tf"
        out, S_, G = run_dump(L, k, tf)
        print("== teacher-forced: each stage from the library's upstream values ==" if tf else
              "== end to end: from the dump's inputs and random draws only ==")
        P = lambda n: f"{mode}:{n}"  # noqa: E731
        mine = {"crit_loss": out["crit_loss"], "actor_loss": [out["actor_loss"]], "div_loss": [out["div_loss"]]}
        for n in ("crit_loss", "actor_loss", "div_loss"):
            losses[(mode, n)] = (mine[n], L[n])
        # losses: the brief's check. e2e actor/div losses sit downstream of softmax(Q / alpha)
        # (|Q| / alpha ~ 1e5) and an Adam step: 1e-3 relative there (measured < 1e-5).
        rep.check(P("crit_loss"), mine["crit_loss"], L["crit_loss"], 1e-5 if tf else 1e-4, 1e-4)
        rep.check(P("actor_loss"), mine["actor_loss"], L["actor_loss"], 1e-7, 1e-4 if tf else 1e-3)
        rep.check(P("div_loss"), mine["div_loss"], L["div_loss"], 1e-7, 1e-4 if tf else 1e-3)
        # sampler, times, noisy points, critic target and gradients: well conditioned either way
        for n in ("crit_next_a", "pol_a"):
            rep.check(P(n), S_[n], L[n], 1e-4 if tf else 5e-4, 1e-4 if tf else 1e-3)
        for n in ("crit_next_logp", "pol_logp"):
            rep.check(P(n), S_[n], L[n], 1e-4 if tf else 1e-3, 1e-5 if tf else 1e-4)
        for n in ("act_t", "act_r", "div_t", "div_r"):
            rep.check(P(n), S_[n], L[n], 1e-6, 1e-5)
        for n in ("z_t", "div_z_t"):
            rep.check(P(n), S_[n], L[n], 5e-6 if tf else 5e-4, 1e-5 if tf else 1e-3)
        rep.check(P("crit_target_dist"), S_["crit_target_dist"], L["crit_target_dist"], 1e-4 if tf else 5e-4,
                  1e-3, alt=ties(S_, 1e-4 if tf else 1e-3))
        for n in ("q1", "q2"):
            g = L["grad_" + n]
            sc = float(np.max(np.abs(g)))
            rep.check(P("grad_" + n), G[n], g, (1e-4 if tf else 1e-3) * sc, 1e-3 if tf else 1e-2,
                      normrel=1e-4 if tf else 1e-3)
        t, zt, n_ = L["act_t"], L["z_t"], L["act_trunc_n"]
        omt = np.maximum(1 - t, T_EPS)
        at = (100 * EPS32 if tf else 1e-4) * (1 + np.abs(zt)[:, None, :] + t[:, None, None] * np.abs(n_)) \
            / omt[:, None, None]
        rep.check(P("gauss_a"), S_["gauss_a"], L["gauss_a"], at, 1e-5 if tf else 1e-4)
        rep.check(P("q_all"), S_["q_all"], L["q_all"], (1e-5 if tf else 1e-4) * vrange, 1e-5 if tf else 1e-4)
        rep.check(P("entropy"), S_["entropy"], L["entropy"], 1e-6 if tf else 1e-3, 1e-4)
        # past the SNIS softmax and the Adam steps: compared teacher-forced only (as the reference)
        info = not tf
        rep.check(P("w"), S_["w"], L["w"], 1e-6, 1e-4, info=info)
        rep.check(P("ess"), S_["ess"], L["ess"], 1e-6, 1e-5, info=info)
        cand = np.concatenate([L["pol_a"], L["gauss_a"]], 1)
        mx = np.max(np.abs(zt[:, None, :] - cand), axis=(1, 2))
        rep.check(P("v_hat"), S_["v_hat"], L["v_hat"], (100 * EPS32 * (1 + mx) / np.maximum(t, T_EPS))[:, None],
                  1e-5, info=info)
        for n in ("u_tgt", "div_v", "div_est", "d_tgt"):  # through torch's own JVPs
            rep.check(P(n), S_[n], L[n], *net_tol(L[n]), info=info)
        for n in ("u", "d"):
            g = L["grad_" + n]
            rep.check(P("grad_" + n), G[n], g, 1e-4 * float(np.max(np.abs(g))), 1e-3, normrel=1e-4, info=info)
    rel = {key: float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
                             / np.maximum(np.abs(np.asarray(b, np.float64)), 1e-30)))
           for key, (a, b) in losses.items()}
    print(f"{rep.n - len(rep.failed)} passed, {len(rep.failed)} failed"
          + (f": {' '.join(rep.failed)}" if rep.failed else ""))
    print(f"RESULT torch_check dump={os.path.basename(os.path.normpath(args.check_dump))} "
          f"status={'PASS' if not rep.failed else 'FAIL'} "
          + " ".join(f"{m}_{n}_rel={rel[(m, n)]:.2e}" for m in ("e2e", "tf")
                     for n in ("crit_loss", "actor_loss", "div_loss")))
    return 1 if rep.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--obs", type=int, default=17)
    ap.add_argument("--act", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--infer-calls", type=int, default=0,
                    help="after the update timing, time batch-1 sampling and 10-candidate selection")
    ap.add_argument("--check-dump", metavar="DIR", help="check the losses against a reference_dump directory")
    args = ap.parse_args()
    if args.check_dump:
        return check_dump(args)
    bench(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
